using ThumbnailApi;
using ThumbnailApi.Operations;

if (HealthProbe.IsRequested(args))
{
    return await HealthProbe.RunAsync(args, Console.Out);
}

if (ThumbnailApi.Imaging.Heif.HeifDecodeChild.IsRequested(args))
{
    return ThumbnailApi.Imaging.Heif.HeifDecodeChild.Run(args, Console.OpenStandardInput(), Console.OpenStandardOutput(), Console.Error);
}

var builder = WebApplication.CreateBuilder(ServiceRegistration.BuilderOptions(args));
builder.AddThumbnailApi();

var app = builder.Build();
app.UseThumbnailApi();
app.Run();
return 0;

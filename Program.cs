using ThumbnailApi;
using ThumbnailApi.Operations;

if (HealthProbe.IsRequested(args))
{
    return await HealthProbe.RunAsync(args, Console.Out);
}

var builder = WebApplication.CreateBuilder(ServiceRegistration.BuilderOptions(args));
builder.AddThumbnailApi();

var app = builder.Build();
app.UseThumbnailApi();
app.Run();
return 0;

using ThumbnailApi;
using ThumbnailApi.Operations;

if (HealthProbe.IsRequested(args))
{
    return await HealthProbe.RunAsync(args, Console.Out);
}

// Settings are read once and validated at start-up: watching appsettings files for changes would only cost start-up time.
var builder = WebApplication.CreateBuilder([.. args, "--hostBuilder:reloadConfigOnChange=false"]);
builder.AddThumbnailApi();

var app = builder.Build();
app.UseThumbnailApi();
app.Run();
return 0;

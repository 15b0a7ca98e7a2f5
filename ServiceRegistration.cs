using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using ThumbnailApi.Endpoints;
using ThumbnailApi.Imaging;
using ThumbnailApi.Operations;
using ThumbnailApi.Persistence;
using ThumbnailApi.Processing;

namespace ThumbnailApi;

/// <summary>The service's wiring, so Program.cs stays a table of contents.</summary>
public static class ServiceRegistration
{
    /// <summary>Bodies of every request but an upload (which raises its own limit) stay small.</summary>
    private const long DefaultBodyLimit = 1024 * 1024;

    public static WebApplicationBuilder AddThumbnailApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ServiceOptions>()
            .BindConfiguration(ServiceOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<HostOptions>()
            .Configure<IOptions<ServiceOptions>>((host, service) => host.ShutdownTimeout = service.Value.ProcessingTimeout + TimeSpan.FromSeconds(5));

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = DefaultBodyLimit;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
            kestrel.Limits.MinRequestBodyDataRate = new(bytesPerSecond: 1024, gracePeriod: TimeSpan.FromSeconds(10));
        });
        services.Configure<ForwardedHeadersOptions>(forwarded =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
        });
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict; // numbers are numbers (also in the OpenAPI schemas)
        });

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(provider => OpenDatabase(provider.GetRequiredService<IOptions<ServiceOptions>>().Value, builder.Environment));
        services.AddSingleton(provider => new TaskFiles(DataPath(provider.GetRequiredService<IOptions<ServiceOptions>>().Value, builder.Environment)));
        services.AddSingleton<TaskStore>();
        services.AddSingleton<TaskQueue>();
        services.AddSingleton<IThumbnailer>(provider => new ThumbnailPipeline(provider.GetRequiredService<IOptions<ServiceOptions>>().Value.ImagingLimits));
        services.AddHostedService<ThumbnailWorker>();
        services.AddSingleton<TaskCompletionSignals>();
        services.AddSingleton<TaskWaiter>();
        services.AddSingleton<RetentionPolicy>();
        services.AddSingleton<RetentionSweep>();
        services.AddHostedService<RetentionService>();
        builder.AddOperations();
        return builder;
    }

    public static WebApplication UseThumbnailApi(this WebApplication app)
    {
        app.UseForwardedHeaders();
        app.UseRequestLog();
        app.UseJsonErrors();
        app.UseUploadPage();
        app.UseRouting(); // after the error handlers, so routing failures are answered in JSON too
        app.MapThumbnailApi();
        app.MapOperations();
        return app;
    }

    private static string DataPath(ServiceOptions options, IHostEnvironment environment) =>
        Path.GetFullPath(options.DataPath, environment.ContentRootPath);

    /// <summary>Creates the data folder and brings the schema up to date before anything uses it.</summary>
    private static Database OpenDatabase(ServiceOptions options, IHostEnvironment environment)
    {
        var folder = Directory.CreateDirectory(DataPath(options, environment));
        var database = new Database(Path.Combine(folder.FullName, "thumbnails.db"));
        database.Migrate();
        return database;
    }
}

using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using ThumbnailApi.Blobs;
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

    /// <summary>Where the service listens when no address is configured (Urls, ASPNETCORE_URLS, ASPNETCORE_HTTP_PORTS, --urls).</summary>
    public const string DefaultUrl = "http://+:8000";

    /// <summary>
    /// The builder's options. The content root is the app's own folder, so appsettings.json and wwwroot/
    /// are found next to ThumbnailApi.dll wherever the service is started from (a systemd unit without
    /// WorkingDirectory starts it in /), unless the operator names one (--contentRoot, ASPNETCORE_CONTENTROOT).
    /// The data folder stays relative to the working folder (<see cref="DataPath"/>). Settings are read once
    /// and validated at start-up: watching appsettings files for changes would only cost start-up time.
    /// </summary>
    public static WebApplicationOptions BuilderOptions(string[] args) => new()
    {
        Args = [.. args, "--hostBuilder:reloadConfigOnChange=false"],
        ContentRootPath = NamesContentRoot(args) ? null : AppContext.BaseDirectory,
    };

    public static WebApplicationBuilder AddThumbnailApi(this WebApplicationBuilder builder)
    {
        // `dotnet run` serves wwwroot/ from the project folder through the static web assets manifest, which
        // ASP.NET Core reads by itself only in Development. A published app has no manifest: this does nothing there.
        builder.WebHost.UseStaticWebAssets();

        if (!HasListenAddress(builder.Configuration))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

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
            kestrel.ConfigureEndpointDefaults(listen => listen.UseJsonRejections()); // Kestrel's own 400/408/414/431/505 get the JSON body
        });
        services.AddTrustedProxies(); // X-Forwarded-* only from KnownProxies/KnownNetworks
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            // Readable (an apostrophe is ', not \u0027) and still HTML-safe: <, > and & stay escaped.
            json.SerializerOptions.Encoder = ReadableJsonEncoder.Instance;
            json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict; // numbers are numbers (also in the OpenAPI schemas)
        });

        services.AddSingleton(TimeProvider.System);
        services.AddTaskStore(DataPath);
        services.AddBlobStore(DataPath);
        services.AddSingleton(provider => new TaskFiles(
            provider.GetRequiredService<IBlobStore>(), DataPath(provider.GetRequiredService<IOptions<ServiceOptions>>().Value)));
        services.AddSingleton<DiskReserve>();
        services.AddSingleton<TaskLeases>();
        services.AddSingleton<ClaimTaskFeed>();
        services.AddSingleton<ChannelTaskFeed>();
        // One process: a bounded channel handed to the workers. Shared database: what feeds the workers is a claim from it.
        services.AddSingleton<ITaskFeed>(provider => StoreRegistration.SharedByInstances(provider)
            ? provider.GetRequiredService<ClaimTaskFeed>()
            : provider.GetRequiredService<ChannelTaskFeed>());

        services.AddHostedService<AbandonedTaskReaper>();
        services.AddSingleton<DecodeMemoryBudget>();
        services.AddSingleton<StartupRecovery>();
        services.AddOptions<TestHookOptions>()
            .BindConfiguration(TestHookOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IThumbnailer>(provider => CrashHook.Wrap(
            new ThumbnailPipeline(provider.GetRequiredService<IOptions<ServiceOptions>>().Value.ImagingLimits),
            provider.GetRequiredService<IOptions<TestHookOptions>>().Value));
        services.AddHostedService<ThumbnailWorker>();
        services.AddSingleton<TaskCompletionSignals>();
        services.AddSingleton<TaskWaiter>();
        services.AddSingleton<RetentionPolicy>();
        services.AddSingleton<RetentionSweep>();
        services.AddHostedService<RetentionService>();
        services.AddHostedService<MemoryTrimmer>();
        services.AddUploadRateLimit();
        services.AddSingleton<UploadSlots>();
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
        app.UseRateLimiter(); // after routing: the upload endpoint names its policy
        app.MapThumbnailApi();
        app.MapOperations();
        return app;
    }

    /// <summary>True when the operator chose an address in any of the ways ASP.NET Core reads one.</summary>
    public static bool HasListenAddress(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["urls"])
        || !string.IsNullOrWhiteSpace(configuration["http_ports"])
        || !string.IsNullOrWhiteSpace(configuration["https_ports"])
        || configuration.GetSection("Kestrel:Endpoints").Exists();

    /// <summary>The data folder, relative to the folder the service is started from (the working folder), not to the app's.</summary>
    private static string DataPath(ServiceOptions options) => Path.GetFullPath(options.DataPath);

    private static bool NamesContentRoot(string[] args) =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_CONTENTROOT"))
        || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_CONTENTROOT"))
        || args.Any(arg => arg.TrimStart('-', '/').StartsWith("contentRoot", StringComparison.OrdinalIgnoreCase));
}

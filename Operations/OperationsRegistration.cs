using System.Reflection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using ThumbnailApi.Processing;

namespace ThumbnailApi.Operations;

/// <summary>Wiring of the operations surface: health, metrics, request log, API docs and the upload page.</summary>
public static class OperationsRegistration
{
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    public static WebApplicationBuilder AddOperations(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<WorkerActivity>();
        services.AddSingleton<ThumbnailMetrics>();

        string[] ready = [HealthEndpoints.ReadyTag];
        services.AddHealthChecks()
            .AddCheck<RecoveryCheck>("recovery", tags: ready)
            .AddCheck<DatabaseCheck>("database", tags: ready, timeout: CheckTimeout)
            .AddCheck<DataFolderCheck>("data_folder", tags: ready, timeout: CheckTimeout)
            .AddCheck<WorkersCheck>("workers", tags: ready)
            .AddCheck<QueueCheck>("queue", tags: ready)
            .AddCheck<NotificationsCheck>("notifications", tags: ready)
            .AddCheck<InputFormatsCheck>("input_formats", tags: ready);

        services.AddOpenTelemetry()
            .ConfigureResource(NameTheService)
            .WithMetrics(metrics => metrics
            .AddMeter(ThumbnailMetrics.MeterName)
            .AddMeter("System.Runtime") // GC, memory, thread pool: built into .NET
            .AddAspNetCoreInstrumentation()
            .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0));

        services.AddHttpContextAccessor(); // the OpenAPI document names the address it was fetched from
        services.AddOpenApi(ApiDocs.Configure);
        return builder;
    }

    /// <summary>
    /// Who the metrics are from (Prometheus' <c>target_info</c>): the service <c>thumbnailapi</c>, its
    /// version, and an instance id of its own, so that several instances' series stay apart. The
    /// standard <c>OTEL_SERVICE_NAME</c> / <c>OTEL_RESOURCE_ATTRIBUTES</c> variables still win.
    /// </summary>
    private static void NameTheService(ResourceBuilder resource)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME")))
        {
            var version = typeof(OperationsRegistration).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
            resource.AddService("thumbnailapi", serviceVersion: version?.Split('+')[0], autoGenerateServiceInstanceId: true);
        }

        resource.AddEnvironmentVariableDetector();
    }

    /// <summary>The request log (outermost, so it sees the final status) .</summary>
    public static IApplicationBuilder UseRequestLog(this IApplicationBuilder app) => app.UseMiddleware<RequestLog>();

    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder routes)
    {
        routes.MapHealthEndpoints();
        routes.MapPrometheusScrapingEndpoint("/metrics");
        routes.MapApiDocs();
        return routes;
    }
}

using OpenTelemetry.Metrics;
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
            .AddCheck<NotificationsCheck>("notifications", tags: ready);

        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ThumbnailMetrics.MeterName)
            .AddMeter("System.Runtime") // GC, memory, thread pool: built into .NET
            .AddAspNetCoreInstrumentation()
            .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0));

        services.AddOpenApi(ApiDocs.Configure);
        return builder;
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

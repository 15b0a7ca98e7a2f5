using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ThumbnailApi.Operations;

/// <summary>The JSON answer of /healthz and /readyz.</summary>
public sealed record HealthResponse(string Status, double DurationMs, IReadOnlyDictionary<string, HealthCheckEntry>? Checks);

/// <summary>One readiness check: its status, what it found, and figures (queue depth, free bytes, ...).</summary>
public sealed record HealthCheckEntry(string Status, string? Description, double DurationMs, IReadOnlyDictionary<string, object>? Data);

/// <summary>
/// Liveness (/healthz: the process answers) and readiness (/readyz: database, data folder,
/// workers and queue, through the built-in health check service). 503 when not ready.
/// </summary>
public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder routes)
    {
        var health = routes.MapGroup("").WithTags("Operations");
        health.MapGet("/healthz", Live)
            .WithName("GetLiveness")
            .WithSummary("Liveness: 200 while the process runs")
            .WithDescription("Runs no checks; for a container or orchestrator to tell a hung process from a live one.");
        health.MapGet("/readyz", ReadyAsync)
            .WithName("GetReadiness")
            .WithSummary("Readiness: 200 when the service can take uploads, 503 when not")
            .WithDescription("Checks that the database answers, the data folder accepts writes (a small file is written and deleted) and has its reserve of free space, "
                             + "every worker is running, the queue has room and (on PostgreSQL) notifications are heard (degraded, still 200, while not). Each check reports its status, a description and figures.")
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable);
        return routes;
    }

    public static Ok<HealthResponse> Live(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new HealthResponse(Name(HealthStatus.Healthy), 0, null));
    }

    public static async Task<Results<Ok<HealthResponse>, JsonHttpResult<HealthResponse>>> ReadyAsync(
        HealthCheckService health, HttpResponse response, CancellationToken cancellation)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(ReadyTag), cancellation);
        var body = new HealthResponse(
            Name(report.Status),
            report.TotalDuration.TotalMilliseconds,
            report.Entries.ToDictionary(entry => entry.Key, entry => Entry(entry.Value)));
        response.Headers.CacheControl = "no-store";
        return report.Status == HealthStatus.Unhealthy
            ? TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable)
            : TypedResults.Ok(body);
    }

    private static HealthCheckEntry Entry(HealthReportEntry entry) => new(
        Name(entry.Status),
        // A check that threw has the exception's message as description, which may name a path: say only what kind it was.
        entry.Exception switch
        {
            null => entry.Description,
            OperationCanceledException or TimeoutException => "The check did not answer in time.",
            var exception => $"The check failed ({exception.GetType().Name}).",
        },
        entry.Duration.TotalMilliseconds,
        entry.Data.Count > 0 ? entry.Data : null);

    private static string Name(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };
}

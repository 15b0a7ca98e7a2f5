using System.Diagnostics;

namespace ThumbnailApi.Operations;

/// <summary>
/// One log line per request: method, path, matched route, status and duration. No query string,
/// headers or body; line breaks and other control characters in the path are escaped (<see cref="LogText"/>). Probes and scrapes (/healthz, /readyz, /metrics) are logged at Debug.
/// </summary>
public sealed partial class RequestLog(RequestDelegate next, ILogger<RequestLog> logger)
{
    private const int MaxPathLength = 200;

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var request = context.Request;
            var path = request.Path.Value ?? "/";
            var level = path is "/healthz" or "/readyz" or "/metrics" ? LogLevel.Debug : LogLevel.Information;
            if (logger.IsEnabled(level))
            {
                var route = LogText.Escape((context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "-");
                var shownPath = LogText.Escape(path.Length > MaxPathLength ? path[..MaxPathLength] + "…" : path);
                var method = LogText.Escape(request.Method);
                var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (context.RequestAborted.IsCancellationRequested)
                {
                    Abandoned(logger, level, method, shownPath, route, context.Response.StatusCode, elapsedMs);
                }
                else
                {
                    Completed(logger, level, method, shownPath, route, context.Response.StatusCode, elapsedMs);
                }
            }
        }
    }

    [LoggerMessage(EventId = 1200, Message = "HTTP {Method} {Path} (route {Route}) answered {StatusCode} in {ElapsedMs:F1} ms")]
    private static partial void Completed(ILogger logger, LogLevel level, string method, string path, string route, int statusCode, double elapsedMs);

    [LoggerMessage(EventId = 1201, Message = "HTTP {Method} {Path} (route {Route}) ended with status {StatusCode} after {ElapsedMs:F1} ms: the client went away")]
    private static partial void Abandoned(ILogger logger, LogLevel level, string method, string path, string route, int statusCode, double elapsedMs);
}

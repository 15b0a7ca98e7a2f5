using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace ThumbnailApi.Endpoints;

/// <summary>
/// A per-client limit on uploads with ASP.NET Core's rate limiter: a token bucket per remote
/// address that holds <see cref="ServiceOptions.UploadsPerMinutePerClient"/> uploads and refills at
/// that rate, so a client may send a burst that size and then keep that pace. Past it: 429
/// rate_limited with Retry-After, before a byte of the body is read. 0 turns the limit off.
/// </summary>
public static class UploadRateLimit
{
    public const string Policy = "uploads";

    public static IServiceCollection AddUploadRateLimit(this IServiceCollection services)
    {
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = WriteRejectionAsync;
        });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<ServiceOptions>>((limiter, options) =>
            limiter.AddPolicy(Policy, context => PartitionFor(context, options.Value.UploadsPerMinutePerClient)));
        return services;
    }

    private static RateLimitPartition<string> PartitionFor(HttpContext context, int perMinute) => perMinute == 0
        ? RateLimitPartition.GetNoLimiter("unlimited")
        : RateLimitPartition.GetTokenBucketLimiter(ClientOf(context), _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1) / perMinute,
            QueueLimit = 0,
            AutoReplenishment = true,
        });

    /// <summary>
    /// The client's key for the per-client limits: the connection's address, which behind a configured
    /// trusted proxy (KnownProxies / KnownNetworks) is the client address the proxy forwarded; a
    /// client's own X-Forwarded-For is never trusted.
    /// </summary>
    public static string ClientOf(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static async ValueTask WriteRejectionAsync(OnRejectedContext rejected, CancellationToken cancellation)
    {
        var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
            ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
            : 60;
        rejected.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await ApiErrors.RateLimited(seconds).ExecuteAsync(rejected.HttpContext);
    }
}

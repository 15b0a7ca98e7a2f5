using System.Globalization;
using Microsoft.Extensions.Options;

namespace ThumbnailApi.Endpoints;

/// <summary>
/// Takes an <see cref="UploadSlots"/> slot for the upload before its body is read and gives it back
/// when the upload ends. Without one: 429 rate_limited when this client address already has
/// MaxConcurrentUploadsPerClient uploads in progress, 503 too_many_uploads when the service has
/// MaxConcurrentUploads; both with Retry-After.
/// </summary>
public sealed class UploadSlotFilter(UploadSlots slots, IOptions<ServiceOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var (slot, refusal) = slots.TryEnter(UploadRateLimit.ClientOf(http));
        if (slot is null)
        {
            var settings = options.Value;
            http.Response.Headers.RetryAfter = settings.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return refusal == SlotRefusal.Client
                ? ApiErrors.UploadsInProgressFromClient(settings.MaxConcurrentUploadsPerClient)
                : ApiErrors.TooManyUploads(settings.MaxConcurrentUploads);
        }

        using (slot)
        {
            return await next(context);
        }
    }
}

using ThumbnailApi.Operations;

namespace ThumbnailApi.Endpoints;

/// <summary>
/// Counts every upload request by outcome ("accepted", "replayed" for an idempotent retry, or the
/// error code it was answered with), whichever of the handler's many exits it took.
/// </summary>
public sealed class UploadOutcomeFilter(ThumbnailMetrics metrics) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var outcome = "internal_error"; // unless the handler returns: an exception becomes a 500
        try
        {
            var result = await next(context);
            outcome = OutcomeOf(result);
            if (outcome == "accepted" && context.HttpContext.Response.Headers.ContainsKey(IdempotentUpload.ReplayedHeader))
            {
                outcome = "replayed"; // a retry answered with the task made earlier
            }

            return result;
        }
        finally
        {
            metrics.UploadFinished(context.HttpContext.RequestAborted.IsCancellationRequested ? "aborted" : outcome);
        }
    }

    private static string OutcomeOf(object? result) => result switch
    {
        INestedHttpResult nested => OutcomeOf(nested.Result),
        JsonHttpResult<ApiError> { Value: { } error } => error.Code,
        IStatusCodeHttpResult { StatusCode: StatusCodes.Status202Accepted } => "accepted",
        IStatusCodeHttpResult { StatusCode: { } status } => $"http_{status}",
        _ => "other",
    };
}

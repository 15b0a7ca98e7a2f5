using System.Text.Json.Serialization;

namespace ThumbnailApi.Endpoints;

/// <summary>
/// The one error body of the API: the original service's <c>status</c> and <c>error_code</c>,
/// plus a stable machine-readable <c>code</c> and a message a person can act on.
/// </summary>
public sealed record ApiError
{
    public string Status { get; init; } = "failed";

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TaskId { get; init; }

    public required int ErrorCode { get; init; }

    public required string Code { get; init; }

    public required string Message { get; init; }

    /// <summary>For <c>invalid_option</c>: the field that was wrong.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Field { get; init; }
}

/// <summary>Every error the API answers with, in one place.</summary>
public static class ApiErrors
{
    public static JsonHttpResult<ApiError> Create(int status, string code, string message, string? taskId = null, string? field = null) =>
        TypedResults.Json(new ApiError { ErrorCode = status, Code = code, Message = message, TaskId = taskId, Field = field }, statusCode: status);

    public static JsonHttpResult<ApiError> MissingImage(string message) =>
        Create(StatusCodes.Status400BadRequest, "missing_image", message);

    public static JsonHttpResult<ApiError> InvalidOption(string field, string message) =>
        Create(StatusCodes.Status400BadRequest, "invalid_option", message, field: field);

    public static JsonHttpResult<ApiError> FileTooLarge(long maxBytes) =>
        Create(StatusCodes.Status413PayloadTooLarge, "file_too_large",
            $"The upload is larger than the limit of {maxBytes:N0} bytes. Send a smaller file.");

    public static JsonHttpResult<ApiError> UnsupportedFormat(string message) =>
        Create(StatusCodes.Status415UnsupportedMediaType, "unsupported_format", message);

    public static JsonHttpResult<ApiError> Unprocessable(string code, string message) =>
        Create(StatusCodes.Status422UnprocessableEntity, code, message);

    public static JsonHttpResult<ApiError> QueueFull() =>
        Create(StatusCodes.Status503ServiceUnavailable, "queue_full",
            "Too many images are waiting to be resized. Try again in a few seconds (see Retry-After).");

    public static JsonHttpResult<ApiError> StorageUnavailable() =>
        Create(StatusCodes.Status503ServiceUnavailable, "storage_unavailable",
            // Said of any store (a full disk, an S3 bucket out of reach), without naming which: an S3 outage must not read as a full disk.
            "The service cannot store images right now (its storage is full, unreachable or not writable). Try again later (see Retry-After).");

    public static JsonHttpResult<ApiError> RateLimited(int retryAfterSeconds) =>
        Create(StatusCodes.Status429TooManyRequests, "rate_limited",
            $"Too many uploads from your address. Try again in {retryAfterSeconds} s (see Retry-After).");

    public static JsonHttpResult<ApiError> UploadsInProgressFromClient(int max) =>
        Create(StatusCodes.Status429TooManyRequests, "rate_limited",
            $"Your address already has {max} uploads in progress, the most it may have at once. Wait for one to finish, then try again (see Retry-After).");

    public static JsonHttpResult<ApiError> TooManyUploads(int max) =>
        Create(StatusCodes.Status503ServiceUnavailable, "too_many_uploads",
            $"The service is receiving {max} uploads at once, the most it takes. Try again in a few seconds (see Retry-After).");

    public static JsonHttpResult<ApiError> TaskNotFound(string taskId) =>
        Create(StatusCodes.Status404NotFound, "task_not_found", "No task has this id. Check the task_id you got when uploading.",
            taskId.Length > 100 ? taskId[..100] : taskId);

    public static JsonHttpResult<ApiError> NotReady(string taskId) =>
        Create(StatusCodes.Status409Conflict, "thumbnail_not_ready",
            "The thumbnail is not ready yet. Poll the task's status until task_status is SUCCESS.", taskId);

    public static JsonHttpResult<ApiError> TaskFailed(string taskId) =>
        Create(StatusCodes.Status409Conflict, "task_failed",
            "This task failed, so it has no thumbnail. Its status says why.", taskId);

    public static JsonHttpResult<ApiError> IdempotencyKeyReused() =>
        Create(StatusCodes.Status422UnprocessableEntity, "idempotency_key_reused",
            "This Idempotency-Key was used in the last 24 hours for a different image or different options. Use a new key for a new upload.");

    public static JsonHttpResult<ApiError> Internal() =>
        Create(StatusCodes.Status500InternalServerError, "internal_error",
            "Something went wrong on our side. Try again; if it keeps happening, tell the operator the time of the request.");
}

using System.Text.Json.Serialization;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Endpoints;

/// <summary>202 body of an accepted upload.</summary>
public sealed record UploadAccepted(string Status, string TaskId, string TaskStatus, string Message, string StatusUrl);

/// <summary>200 body of the status endpoint. <c>task_status</c> is PENDING, SUCCESS or FAILED, as in the original.</summary>
public sealed record TaskStatusResponse(
    string Status,
    string TaskId,
    string TaskStatus,
    string? Stage,
    string Message,
    ThumbnailInfo? Image,
    TaskError? Error,
    RequestedOptions Options,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt)
{
    /// <summary>When the task and its thumbnail will be removed; null while pending or when tasks are kept forever.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public DateTimeOffset? ExpiresAt { get; init; }
}

/// <summary>200 body of the batch status endpoint: the found tasks in the order asked, and the ids that are not tasks.</summary>
public sealed record BatchStatusResponse(string Status, IReadOnlyList<TaskStatusResponse> Tasks, IReadOnlyList<string> NotFound);

/// <summary>The finished thumbnail. <c>image</c> is the original's field; <c>url</c> says the same, by name.</summary>
public sealed record ThumbnailInfo(string Name, string Image, string Url, int Width, int Height, string ContentType, long SizeBytes);

public sealed record TaskError(string Code, string Message);

/// <summary>The options the task was asked with; <c>quality</c> only when one was given (otherwise the output format's default).</summary>
public sealed record RequestedOptions(int Width, int Height, string Fit, string Format, int? Quality = null);

public static class TaskResponses
{
    public const string Pending = "PENDING";
    public const string Success = "SUCCESS";
    public const string Failure = "FAILED";

    public static string StatusUrl(HttpRequest request, string id) => $"{BaseUrl(request)}{ThumbnailEndpoints.Prefix}/{id}";

    public static string ThumbnailUrl(HttpRequest request, string id) => $"{StatusUrl(request, id)}/thumbnail";

    public static UploadAccepted Accepted(HttpRequest request, string id) => new(
        "success", id, Pending, "Your image is being resized. Check its status with the task id.", StatusUrl(request, id));

    public static TaskStatusResponse Status(HttpRequest request, TaskRecord task)
    {
        var options = new RequestedOptions(task.Width, task.Height, task.Fit, task.Format, task.Quality);
        var created = DateTimeOffset.FromUnixTimeMilliseconds(task.CreatedAt);
        var completed = task.CompletedAt is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : (DateTimeOffset?)null;
        return task.State switch
        {
            TaskState.Succeeded => new TaskStatusResponse("success", task.Id, Success, null,
                "Your image was resized. Download it from the url below.",
                new ThumbnailInfo(task.FileName, ThumbnailUrl(request, task.Id), ThumbnailUrl(request, task.Id),
                    task.ThumbnailWidth ?? 0, task.ThumbnailHeight ?? 0, task.ThumbnailType ?? "", task.ThumbnailBytes ?? 0),
                null, options, created, completed),
            TaskState.Failed => new TaskStatusResponse("success", task.Id, Failure, null,
                "Your image could not be resized. The error says why.", null,
                new TaskError(task.ErrorCode ?? "internal_error", task.ErrorMessage ?? ""), options, created, completed),
            _ => new TaskStatusResponse("success", task.Id, Pending, task.State == TaskState.Processing ? "processing" : "queued",
                task.State == TaskState.Processing ? "Your image is being resized." : "Your image is waiting to be resized.",
                null, null, options, created, null),
        };
    }

    /// <summary>The status with its expiry date under the retention policy.</summary>
    public static TaskStatusResponse Status(HttpRequest request, TaskRecord task, RetentionPolicy retention) =>
        Status(request, task) with { ExpiresAt = retention.ExpiresAt(task) };

    /// <summary>Scheme and host as the client sees them (forwarded headers are applied by middleware).</summary>
    private static string BaseUrl(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}";
}

using Microsoft.Net.Http.Headers;
using ThumbnailApi.Persistence;
using ThumbnailApi.Processing;

namespace ThumbnailApi.Endpoints;

/// <summary>The thumbnail API: upload, status and download, under one route group.</summary>
public static class ThumbnailEndpoints
{
    public const string Prefix = "/api/v1/thumbnail_generator";

    public static IEndpointRouteBuilder MapThumbnailApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup(Prefix).WithTags("Thumbnails");

        // Routing ignores a trailing slash: this answers both ".../thumbnail_generator" and ".../thumbnail_generator/".
        api.MapPost("/", UploadEndpoint.HandleAsync)
            .RequireRateLimiting(UploadRateLimit.Policy)
            .AddEndpointFilter<UploadOutcomeFilter>()
            .AddEndpointFilter<UploadSlotFilter>() // inside the outcome filter, so its refusals are counted
            .DescribeUpload();
        api.MapGet("/{taskId}", GetStatus).DescribeStatus();
        api.MapGet("/{taskId}/thumbnail", GetThumbnailAsync).DescribeThumbnail();

        api.MapGet("/", BatchStatusEndpoint.HandleAsync).DescribeBatchStatus();
        api.MapDelete("/{taskId}", DeleteEndpoint.HandleAsync).DescribeDelete();
        return routes;
    }

    /// <summary>The task's status; with <c>?wait=N</c> (0–30 s) the answer waits until the task leaves PENDING or N seconds pass.</summary>
    public static async Task<Results<Ok<TaskStatusResponse>, JsonHttpResult<ApiError>>> GetStatus(
        string taskId, string? wait, HttpContext context, TaskWaiter waiter, RetentionPolicy retention)
    {
        if (!WaitOption.TryParse(wait, out var timeout))
        {
            return WaitOption.Invalid();
        }

        return TaskId.TryParse(taskId, out var id) && await waiter.FindWhenFinishedAsync(id, timeout, context.RequestAborted) is { } task
            ? TypedResults.Ok(TaskResponses.Status(context.Request, task, retention))
            : ApiErrors.TaskNotFound(taskId);
    }

    public static async Task<Results<FileStreamHttpResult, JsonHttpResult<ApiError>>> GetThumbnailAsync(
        string taskId, HttpResponse response, ITaskStore store, TaskFiles files, CancellationToken cancellation)
    {
        if (!TaskId.TryParse(taskId, out var id) || await store.FindAsync(id) is not { } task)
        {
            return ApiErrors.TaskNotFound(taskId);
        }

        if (task.State != TaskState.Succeeded || task.ThumbnailType is null || task.ThumbnailEtag is null || TaskFiles.ThumbnailKeyOf(task) is not { } key)
        {
            return task.State == TaskState.Failed ? ApiErrors.TaskFailed(id) : ApiErrors.NotReady(id);
        }

        if (await files.OpenThumbnailAsync(key, cancellation) is not { } content)
        {
            return ApiErrors.TaskNotFound(taskId);
        }

        // A thumbnail never changes once made: let browsers and proxies keep it.
        response.Headers.CacheControl = "public, max-age=31536000, immutable";
        response.RegisterForDisposeAsync(content);
        return TypedResults.File(content.Stream, task.ThumbnailType, entityTag: EntityTagHeaderValue.Parse(task.ThumbnailEtag),
            lastModified: task.CompletedAt is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null);
    }
}

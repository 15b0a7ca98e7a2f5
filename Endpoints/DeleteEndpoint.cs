using ThumbnailApi.Persistence;

namespace ThumbnailApi.Endpoints;

/// <summary>
/// <c>DELETE …/{task_id}</c>: removes the task's row and upload, and its thumbnail unless another
/// task shares it (thumbnails are stored once per content); the store announces it, so anyone
/// waiting for the task, on any instance, is answered. Safe while a worker (on any instance)
/// processes it: the worker's SUCCESS/FAILED no longer matches a row, so it discards its result.
/// </summary>
public static partial class DeleteEndpoint
{
    public static async Task<Results<NoContent, JsonHttpResult<ApiError>>> HandleAsync(
        string taskId, ITaskStore store, TaskFiles files, ILoggerFactory loggers)
    {
        if (!TaskId.TryParse(taskId, out var id) || await store.DeleteTaskAsync(id, files.DeleteThumbnailAsync) is not { } task)
        {
            return ApiErrors.TaskNotFound(taskId);
        }

        await files.TryDeleteUploadAsync(id);
        await files.DeleteOldStyleThumbnailsAsync(task);
        Deleted(loggers.CreateLogger(typeof(DeleteEndpoint)), id, task.State);
        return TypedResults.NoContent();
    }

    [LoggerMessage(1010, LogLevel.Information, "Task {TaskId} deleted by the client (it was {State})")]
    private static partial void Deleted(ILogger logger, string taskId, string state);
}

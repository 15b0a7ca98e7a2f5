using ThumbnailApi.Persistence;
using ThumbnailApi.Processing;

namespace ThumbnailApi.Endpoints;

/// <summary>
/// <c>DELETE …/{task_id}</c>: removes the task's row, upload and thumbnail, and wakes anyone waiting
/// for it. Safe while a worker processes it: the worker's SUCCESS/FAILED no longer matches a row, so
/// it discards its result and removes the thumbnail it wrote.
/// </summary>
public static partial class DeleteEndpoint
{
    public static Results<NoContent, JsonHttpResult<ApiError>> Handle(
        string taskId, TaskStore store, TaskFiles files, TaskCompletionSignals completions, ILoggerFactory loggers)
    {
        if (!TaskId.TryParse(taskId, out var id) || store.DeleteTask(id) is not { } task)
        {
            return ApiErrors.TaskNotFound(taskId);
        }

        files.DeleteAll(id);
        completions.Raise(id);
        Deleted(loggers.CreateLogger(typeof(DeleteEndpoint)), id, task.State);
        return TypedResults.NoContent();
    }

    [LoggerMessage(1010, LogLevel.Information, "Task {TaskId} deleted by the client (it was {State})")]
    private static partial void Deleted(ILogger logger, string taskId, string state);
}

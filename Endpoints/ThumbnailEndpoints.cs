using Microsoft.Net.Http.Headers;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Endpoints;

/// <summary>The thumbnail API: upload, status and download, under one route group.</summary>
public static class ThumbnailEndpoints
{
    public const string Prefix = "/api/v1/thumbnail_generator";

    public static IEndpointRouteBuilder MapThumbnailApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup(Prefix).WithTags("Thumbnails");

        // Routing ignores a trailing slash: this answers both ".../thumbnail_generator" and ".../thumbnail_generator/".
        api.MapPost("/", UploadEndpoint.HandleAsync).AddEndpointFilter<UploadOutcomeFilter>().DescribeUpload();
        api.MapGet("/{taskId}", GetStatus).DescribeStatus();
        api.MapGet("/{taskId}/thumbnail", GetThumbnail).DescribeThumbnail();
        return routes;
    }

    public static Results<Ok<TaskStatusResponse>, JsonHttpResult<ApiError>> GetStatus(string taskId, HttpRequest request, TaskStore store) =>
        TaskId.TryParse(taskId, out var id) && store.Find(id) is { } task
            ? TypedResults.Ok(TaskResponses.Status(request, task))
            : ApiErrors.TaskNotFound(taskId);

    public static Results<FileStreamHttpResult, JsonHttpResult<ApiError>> GetThumbnail(
        string taskId, HttpResponse response, TaskStore store, TaskFiles files)
    {
        if (!TaskId.TryParse(taskId, out var id) || store.Find(id) is not { } task)
        {
            return ApiErrors.TaskNotFound(taskId);
        }

        if (task.State != TaskState.Succeeded || task.ThumbnailType is null || task.ThumbnailEtag is null)
        {
            return task.State == TaskState.Failed ? ApiErrors.TaskFailed(id) : ApiErrors.NotReady(id);
        }

        FileStream stream;
        try
        {
            stream = files.OpenThumbnail(id, TaskFiles.ExtensionFor(task.ThumbnailType));
        }
        catch (FileNotFoundException)
        {
            return ApiErrors.TaskNotFound(taskId);
        }

        // A thumbnail never changes once made: let browsers and proxies keep it.
        response.Headers.CacheControl = "public, max-age=31536000, immutable";
        return TypedResults.File(stream, task.ThumbnailType, entityTag: EntityTagHeaderValue.Parse(task.ThumbnailEtag),
            lastModified: task.CompletedAt is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null);
    }
}

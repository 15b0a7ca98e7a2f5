using ThumbnailApi.Persistence;

namespace ThumbnailApi.Endpoints;

/// <summary>
/// <c>GET …/?ids=a,b,c</c>: the statuses of up to 100 tasks in one call and one query. Found tasks
/// come in the order asked, each exactly as the single status endpoint would answer; unknown or
/// malformed ids are listed under <c>not_found</c>.
/// </summary>
public static class BatchStatusEndpoint
{
    public const int MaxIds = 100;

    public static async Task<Results<Ok<BatchStatusResponse>, JsonHttpResult<ApiError>>> HandleAsync(
        string? ids, HttpRequest request, ITaskStore store, RetentionPolicy retention)
    {
        // "?ids=a,b&ids=c" arrives joined by commas as well.
        var asked = (ids ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (asked.Length is 0 or > MaxIds)
        {
            return ApiErrors.InvalidOption("ids", $"ids must list 1 to {MaxIds} task ids, separated by commas.");
        }

        // Each id once, in the order asked; an id in two letter cases is one id.
        var wanted = asked.Select(raw => TaskId.TryParse(raw, out var id) ? (Raw: raw, Id: id) : (Raw: raw, Id: null))
            .DistinctBy(entry => entry.Id ?? entry.Raw)
            .ToList();
        var found = (await store.FindManyAsync(wanted.Where(entry => entry.Id is not null).Select(entry => entry.Id!).ToArray()))
            .ToDictionary(task => task.Id, StringComparer.Ordinal);

        var tasks = new List<TaskStatusResponse>();
        var notFound = new List<string>();
        foreach (var (raw, id) in wanted)
        {
            if (id is not null && found.TryGetValue(id, out var task))
            {
                tasks.Add(TaskResponses.Status(request, task, retention));
            }
            else
            {
                notFound.Add(raw.Length > 100 ? raw[..100] : raw);
            }
        }

        return TypedResults.Ok(new BatchStatusResponse("success", tasks, notFound));
    }
}

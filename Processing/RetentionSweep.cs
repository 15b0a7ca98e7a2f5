using ThumbnailApi.Persistence;

namespace ThumbnailApi.Processing;

/// <summary>
/// One retention pass: removes finished tasks older than the retention age with their files, then
/// files no task needs (left by a crash, or by a claim that lost its lease). Works in batches of
/// <see cref="BatchSize"/>, each one short statement, so uploads and workers never wait long for the
/// database. With several instances, one sweeps at a time (the store hands out the turn).
/// </summary>
public sealed class RetentionSweep(ITaskStore store, TaskFiles files, RetentionPolicy policy, TimeProvider clock)
{
    public const int BatchSize = 100;

    /// <summary>
    /// A file must be untouched this long before it counts as an orphan. An upload being streamed is
    /// written to at least every 30 s (the idle-upload rule), and on a shared folder another instance
    /// writes its upload before its row: neither is ever taken for one.
    /// </summary>
    public static readonly TimeSpan OrphanGracePeriod = TimeSpan.FromHours(1);

    /// <summary>The pass, or nothing (null) when another instance is sweeping now.</summary>
    public async Task<SweepResult?> RunAsync(CancellationToken cancellation)
    {
        await using var turn = await store.TryTakeSweeperTurnAsync();
        if (turn is null)
        {
            return null;
        }

        var expired = await DeleteExpiredTasksAsync(cancellation);
        var orphans = await DeleteOrphanFilesAsync(cancellation);
        return new SweepResult(expired, orphans);
    }

    private async Task<int> DeleteExpiredTasksAsync(CancellationToken cancellation)
    {
        if (policy.Age is not { } age)
        {
            return 0;
        }

        var finishedBefore = (clock.GetUtcNow() - age).ToUnixTimeMilliseconds();
        var removed = 0;
        while (!cancellation.IsCancellationRequested)
        {
            var batch = await store.DeleteFinishedBeforeAsync(finishedBefore, BatchSize);
            foreach (var task in batch)
            {
                files.DeleteTaskFiles(task);
            }

            removed += batch.Count;
            if (batch.Count < BatchSize)
            {
                break;
            }
        }

        return removed;
    }

    private async Task<int> DeleteOrphanFilesAsync(CancellationToken cancellation)
    {
        var untouchedSince = (clock.GetUtcNow() - OrphanGracePeriod).UtcDateTime;
        var removed = 0;
        foreach (var batch in files.EnumerateTaskFiles().Where(file => file.LastWriteUtc < untouchedSince).Chunk(BatchSize))
        {
            if (cancellation.IsCancellationRequested)
            {
                break;
            }

            var owners = await store.FileOwnersAsync(batch.Select(file => file.TaskId).Distinct().ToArray());
            foreach (var file in batch.Where(file => IsOrphan(file, owners.GetValueOrDefault(file.TaskId))))
            {
                TaskFiles.Delete(file);
                removed++;
            }
        }

        return removed;
    }

    /// <summary>
    /// Half-written thumbnails whose claim is over (the task finished, was deleted, or went back to the
    /// queue), without waiting for the grace period: for start-up, after a crash. A claim still held,
    /// by this or another instance, keeps its file: its token is the row's.
    /// </summary>
    public async Task<int> DeleteAbandonedPartialThumbnailsAsync()
    {
        var removed = 0;
        foreach (var batch in files.EnumerateTaskFiles().Where(file => file.Kind == TaskFileKind.PartialThumbnail).Chunk(BatchSize))
        {
            var owners = await store.FileOwnersAsync(batch.Select(file => file.TaskId).Distinct().ToArray());
            foreach (var file in batch.Where(file => owners.GetValueOrDefault(file.TaskId) is not { State: TaskState.Processing } owner
                                                    || owner.LeaseToken != file.LeaseToken))
            {
                TaskFiles.Delete(file);
                removed++;
            }
        }

        return removed;
    }

    /// <summary>
    /// An upload is needed only by an unfinished task (the worker deletes it after finishing); a
    /// thumbnail by its task, if the claim that wrote it is the task's last one (a claim that lost its
    /// lease leaves a file of its own token behind); a half-written thumbnail this old by nobody.
    /// </summary>
    private static bool IsOrphan(TaskFile file, TaskFileOwner? owner) => file.Kind switch
    {
        TaskFileKind.Upload => owner is null || owner.State is TaskState.Succeeded or TaskState.Failed,
        TaskFileKind.Thumbnail => owner is null || (file.LeaseToken is not null && file.LeaseToken != owner.LeaseToken),
        _ => true,
    };
}

public sealed record SweepResult(int ExpiredTasks, int OrphanFiles);

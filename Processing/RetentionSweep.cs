using ThumbnailApi.Persistence;

namespace ThumbnailApi.Processing;

/// <summary>
/// One retention pass: removes finished tasks older than the retention age with their files, then
/// files no task needs (left by a crash). Works in batches of <see cref="BatchSize"/>, each one short
/// statement, so uploads and workers never wait long for the database.
/// </summary>
public sealed class RetentionSweep(TaskStore store, TaskFiles files, RetentionPolicy policy, TimeProvider clock)
{
    public const int BatchSize = 100;

    /// <summary>
    /// A file must be untouched this long before it counts as an orphan. An upload being streamed is
    /// written to at least every ~80 s (Kestrel's minimum data rate), so it is never taken for one.
    /// </summary>
    public static readonly TimeSpan OrphanGracePeriod = TimeSpan.FromHours(1);

    public SweepResult Run(CancellationToken cancellation)
    {
        var expired = DeleteExpiredTasks(cancellation);
        var orphans = DeleteOrphanFiles(cancellation);
        return new SweepResult(expired, orphans);
    }

    private int DeleteExpiredTasks(CancellationToken cancellation)
    {
        if (policy.Age is not { } age)
        {
            return 0;
        }

        var finishedBefore = (clock.GetUtcNow() - age).ToUnixTimeMilliseconds();
        var removed = 0;
        while (!cancellation.IsCancellationRequested)
        {
            var batch = store.DeleteFinishedBefore(finishedBefore, BatchSize);
            foreach (var task in batch)
            {
                files.DeleteAll(task.Id);
            }

            removed += batch.Count;
            if (batch.Count < BatchSize)
            {
                break;
            }
        }

        return removed;
    }

    private int DeleteOrphanFiles(CancellationToken cancellation)
    {
        var untouchedSince = (clock.GetUtcNow() - OrphanGracePeriod).UtcDateTime;
        var removed = 0;
        foreach (var batch in files.EnumerateTaskFiles().Where(file => file.LastWriteUtc < untouchedSince).Chunk(BatchSize))
        {
            if (cancellation.IsCancellationRequested)
            {
                break;
            }

            var states = store.StatesOf(batch.Select(file => file.TaskId).Distinct().ToArray());
            foreach (var file in batch.Where(file => IsOrphan(file, states.GetValueOrDefault(file.TaskId))))
            {
                TaskFiles.Delete(file);
                removed++;
            }
        }

        return removed;
    }

    /// <summary>
    /// An upload is needed only by an unfinished task (the worker deletes it after finishing); a
    /// thumbnail by any task; a half-written thumbnail this old by nobody.
    /// </summary>
    private static bool IsOrphan(TaskFile file, string? state) => file.Kind switch
    {
        TaskFileKind.Upload => state is null or TaskState.Succeeded or TaskState.Failed,
        TaskFileKind.Thumbnail => state is null,
        _ => true,
    };
}

public sealed record SweepResult(int ExpiredTasks, int OrphanFiles);

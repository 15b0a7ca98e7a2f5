namespace ThumbnailApi.Persistence;

/// <summary>
/// Every read and write of task rows, one method per intent, for one database or another (SQLite for
/// one process, PostgreSQL for several instances; see <see cref="StoreRegistration"/>). Code outside
/// Persistence knows only this contract: a database that cannot be used right now surfaces as
/// <see cref="StorageUnavailableException"/>, whatever the database's own exception was. Every write
/// that finishes a task or puts one in the queue is announced on <see cref="TaskEvents"/> once it is
/// committed, in this process and (with PostgreSQL) in every other instance.
/// </summary>
public interface ITaskStore
{
    /// <summary>Creates or upgrades the schema; safe when several processes start at the same second.</summary>
    Task MigrateAsync(CancellationToken cancellation = default);

    // ---- uploads ------------------------------------------------------------------------------

    /// <summary>Records an accepted upload as a queued task.</summary>
    Task InsertQueuedAsync(TaskRecord task);

    /// <summary>
    /// Records an upload sent with an idempotency key, unless a task created at or after
    /// <paramref name="keysValidSince"/> already holds the key: then nothing is written and that task
    /// is returned. An older holder gives the key up. Two concurrent requests with one key cannot both
    /// insert, whichever instance they reach: the loser gets the winner's task.
    /// </summary>
    Task<TaskRecord?> InsertQueuedUnlessKeyTakenAsync(TaskRecord task, long keysValidSince);

    /// <summary>The task created at or after <paramref name="since"/> with this idempotency key, if any.</summary>
    Task<TaskRecord?> FindByIdempotencyKeyAsync(string key, long since);

    /// <summary>Removes a task outright: an upload that was recorded but could not be queued.</summary>
    Task RemoveUnqueuedAsync(string id);

    /// <summary>Tasks waiting for a worker, in every instance that shares the database.</summary>
    Task<long> CountQueuedAsync();

    // ---- reading ------------------------------------------------------------------------------

    Task<TaskRecord?> FindAsync(string id);

    /// <summary>The known tasks among <paramref name="ids"/>, in one query (unknown ids are simply absent).</summary>
    Task<IReadOnlyList<TaskRecord>> FindManyAsync(IReadOnlyCollection<string> ids);

    /// <summary>
    /// The most recent successful task made from the same bytes with the same options by pipeline
    /// revision <paramref name="pipelineRevision"/>, if any: its thumbnail is this task's thumbnail too.
    /// </summary>
    Task<TaskRecord?> FindSucceededTwinAsync(TaskRecord task, int pipelineRevision);

    /// <summary>Ids of the queued tasks, oldest first (to fill an in-process queue at start-up).</summary>
    Task<IReadOnlyList<string>> QueuedIdsAsync();

    /// <summary>Ids of tasks whose upload must be kept (not yet finished).</summary>
    Task<HashSet<string>> UnfinishedIdsAsync();

    /// <summary>What owns each task's files among <paramref name="ids"/>: its state and lease token (unknown ids are absent).</summary>
    Task<Dictionary<string, TaskFileOwner>> FileOwnersAsync(IReadOnlyCollection<string> ids);

    // ---- work ---------------------------------------------------------------------------------

    /// <summary>
    /// Takes this queued task for processing under <paramref name="lease"/> and counts the attempt.
    /// Null when the task is gone or taken, so an id announced twice is processed once.
    /// </summary>
    Task<TaskRecord?> TryClaimAsync(string id, TaskLease lease);

    /// <summary>Takes the oldest queued task no one else is taking, under <paramref name="lease"/>; null when none is queued.</summary>
    Task<TaskRecord?> ClaimNextAsync(TaskLease lease);

    /// <summary>Moves the lease's expiry on; false when the claim was lost (the task was re-queued, finished elsewhere or deleted).</summary>
    Task<bool> RenewLeaseAsync(string id, TaskLease lease);

    /// <summary>
    /// Makes the claimed task refer to the stored thumbnail <paramref name="key"/> (thumbnails are stored
    /// once per content and shared), if the claim with <paramref name="leaseToken"/> still holds. Call
    /// it before putting the bytes in the store, and only then: it waits for any deletion of that key
    /// in progress (the same lock, see <see cref="DeleteTaskAsync"/>), so either the deleter sees this
    /// reference and keeps the blob, or it deleted the blob first and the put that follows stores it again.
    /// </summary>
    Task<bool> ReferenceThumbnailAsync(string id, string leaseToken, string key);

    /// <summary>Records the thumbnail, if the claim with <paramref name="leaseToken"/> still holds.</summary>
    Task<bool> MarkSucceededAsync(string id, string leaseToken, StoredThumbnail thumbnail);

    /// <summary>Records why a task failed, if the claim with <paramref name="leaseToken"/> still holds.</summary>
    Task<bool> MarkFailedAsync(string id, string leaseToken, string code, string message);

    /// <summary>
    /// Puts a claimed task back in the queue without counting the attempt, if the claim with
    /// <paramref name="leaseToken"/> still holds: for work stopped by storage trouble or a shutdown, not by the image.
    /// </summary>
    Task<bool> ReleaseClaimAsync(string id, string leaseToken);

    /// <summary>
    /// Claims whose holder is gone go back to the queue; those that already used
    /// <paramref name="maxAttempts"/> attempts are failed with <c>processing_crashed</c> instead, so one
    /// poisonous file cannot crash instances in a loop. Which claims are abandoned is the database's
    /// rule: a lease past its expiry, and in a single-process database also any claim not made by
    /// <paramref name="instanceId"/> (a process that died).
    /// </summary>
    Task<RecoveredTasks> RequeueAbandonedAsync(string instanceId, int maxAttempts, string crashedMessage);

    // ---- deleting -----------------------------------------------------------------------------

    /// <summary>
    /// Deletes a task and returns its row as it was, so its upload can go too; null when unknown. When
    /// no other task refers to its thumbnail any more, <paramref name="deleteThumbnail"/> deletes it
    /// before the deletion commits, under the thumbnail key's lock, so no task can start to refer to
    /// it meanwhile (<see cref="ReferenceThumbnailAsync"/>). When that deletion fails, nothing is deleted.
    /// </summary>
    Task<TaskRecord?> DeleteTaskAsync(string id, Func<string, Task> deleteThumbnail);

    /// <summary>
    /// Deletes at most <paramref name="limit"/> tasks that finished before <paramref name="finishedBefore"/>,
    /// oldest first, in one short transaction, with their thumbnails no other task refers to (as
    /// <see cref="DeleteTaskAsync"/>), and returns them so their uploads can go too.
    /// </summary>
    Task<IReadOnlyList<TaskRecord>> DeleteFinishedBeforeAsync(long finishedBefore, int limit, Func<string, Task> deleteThumbnail);

    /// <summary>Which of <paramref name="keys"/> some task refers to (a first, unlocked look for the sweep of thumbnails no task uses).</summary>
    Task<HashSet<string>> ThumbnailKeysInUseAsync(IReadOnlyCollection<string> keys);

    /// <summary>
    /// Deletes the thumbnail <paramref name="key"/> with <paramref name="deleteThumbnail"/> if no task refers
    /// to it, checking and deleting under the key's lock as <see cref="DeleteTaskAsync"/> does; true when it
    /// did. The orphan sweep must delete this way: a look at <see cref="ThumbnailKeysInUseAsync"/> followed by
    /// a plain delete would remove the blob of a task that referred to the key and stored it in between.
    /// </summary>
    Task<bool> DeleteThumbnailIfUnusedAsync(string key, Func<string, Task> deleteThumbnail);

    /// <summary>
    /// The right to run the retention sweep now, held until disposed; null when another instance holds
    /// it (one sweeper at a time across instances).
    /// </summary>
    Task<IAsyncDisposable?> TryTakeSweeperTurnAsync();

    // ---- health -------------------------------------------------------------------------------

    /// <summary>Whether the database answers a query and would take a write, and how many tasks are unfinished.</summary>
    Task<StoreHealth> CheckHealthAsync(CancellationToken cancellation);
}

/// <summary>What the database says of itself for readiness: healthy or not, a description that names no path or password, figures.</summary>
public sealed record StoreHealth(bool Healthy, string Description, long? UnfinishedTasks);

/// <summary>A task's state and lease token: which of the files named after it are its own.</summary>
public sealed record TaskFileOwner(string State, string? LeaseToken);

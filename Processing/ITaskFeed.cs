using ThumbnailApi.Persistence;

namespace ThumbnailApi.Processing;

/// <summary>
/// Where workers get their next task, claimed under a lease, and what decides whether an upload may
/// be queued. One process keeps the design card's shape: a bounded in-process channel of task ids
/// (<see cref="ChannelTaskFeed"/>). Instances that share a database claim from it directly
/// (<see cref="ClaimTaskFeed"/>): whatever instance took the upload, any instance can do the work.
/// </summary>
public interface ITaskFeed
{
    /// <summary>Tasks that may wait for a worker before uploads are refused with 503 queue_full.</summary>
    int Capacity { get; }

    /// <summary>Tasks waiting for a worker (with a shared database: in every instance, as last counted).</summary>
    long Depth { get; }

    /// <summary>Whether one more task may be queued now.</summary>
    ValueTask<bool> HasRoomAsync();

    /// <summary>A task was just recorded as queued (or put back): hands it on. False when the in-process queue is full.</summary>
    bool Offer(string id);

    /// <summary>
    /// A task put back in the queue (its worker met a storage outage or a shutdown, or its instance died):
    /// handed on as soon as there is room, never dropped, even when the in-process queue is full now.
    /// </summary>
    void Return(string id);

    /// <summary>At start-up, once recovery has run: takes up the tasks the database already has queued.</summary>
    Task StartAsync(CancellationToken cancellation);

    /// <summary>The next task, claimed under a new lease; waits while there is none.</summary>
    /// <exception cref="StorageUnavailableException">The database cannot be used now; try again later.</exception>
    Task<ClaimedTask> NextAsync(CancellationToken cancellation);
}

/// <summary>A task a worker holds, and the lease it holds it by.</summary>
public sealed record ClaimedTask(TaskRecord Task, TaskLease Lease);

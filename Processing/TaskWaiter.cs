using ThumbnailApi.Persistence;

namespace ThumbnailApi.Processing;

/// <summary>
/// Reads a task, holding the caller until it leaves PENDING or a timeout passes (long-poll). Woken by
/// <see cref="TaskCompletionSignals"/>, never by polling the database; answers at once when the
/// waiter cap is reached, and when the service shuts down.
/// </summary>
public sealed class TaskWaiter(TaskStore store, TaskCompletionSignals signals, TimeProvider clock, IHostApplicationLifetime lifetime)
{
    /// <summary>The task's row once it is finished, or as it is when <paramref name="timeout"/> passes; null when unknown or deleted.</summary>
    public async Task<TaskRecord?> FindWhenFinishedAsync(string id, TimeSpan timeout, CancellationToken cancellation)
    {
        var task = store.Find(id);
        if (task is null || task.IsFinished || timeout <= TimeSpan.Zero)
        {
            return task;
        }

        using var waiter = signals.TryWait(id);
        if (waiter is null)
        {
            return task; // over the cap: the current status, at once
        }

        // Read again now that the waiter is registered: a completion committed between the first read
        // and the registration raised nobody, but is visible here.
        task = store.Find(id);
        if (task is null || task.IsFinished)
        {
            return task;
        }

        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellation, lifetime.ApplicationStopping);
        await waiter.WaitAsync(timeout, clock, stopping.Token);
        return store.Find(id);
    }
}

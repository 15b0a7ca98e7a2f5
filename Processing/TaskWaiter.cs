using ThumbnailApi.Persistence;

namespace ThumbnailApi.Processing;

/// <summary>
/// Reads a task, holding the caller until it leaves PENDING or a timeout passes (long-poll). Woken by
/// <see cref="TaskCompletionSignals"/>, never by polling the database; answers at once when the
/// waiter cap is reached, and when the service shuts down.
/// </summary>
public sealed class TaskWaiter(ITaskStore store, TaskCompletionSignals signals, TimeProvider clock, IHostApplicationLifetime lifetime)
{
    /// <summary>The task's row once it is finished, or as it is when <paramref name="timeout"/> passes; null when unknown or deleted.</summary>
    public async Task<TaskRecord?> FindWhenFinishedAsync(string id, TimeSpan timeout, CancellationToken cancellation)
    {
        var task = await store.FindAsync(id);
        var started = clock.GetTimestamp();
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellation, lifetime.ApplicationStopping);
        while (task is not null && !task.IsFinished && clock.GetElapsedTime(started) < timeout && !stopping.IsCancellationRequested)
        {
            using var waiter = signals.TryWait(id);
            if (waiter is null)
            {
                return task; // over the cap: the current status, at once
            }

            // Read again now that the waiter is registered: a completion committed between the first read
            // and the registration raised nobody, but is visible here.
            task = await store.FindAsync(id);
            if (task is null || task.IsFinished)
            {
                return task;
            }

            // Woken by the task's end, or by "look again" (announcements may have been lost): read and,
            // if it is still pending, wait out the rest of the time.
            await waiter.WaitAsync(TimeSpan.FromTicks(Math.Max(0, (timeout - clock.GetElapsedTime(started)).Ticks)), clock, stopping.Token);
            task = await store.FindAsync(id);
        }

        return task;
    }
}

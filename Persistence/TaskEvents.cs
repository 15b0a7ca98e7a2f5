namespace ThumbnailApi.Persistence;

/// <summary>
/// What the store announces once it has committed it: a task finished or was deleted (long-polls
/// answer), work was queued (an idle worker claims it), or the announcements themselves may have
/// been missed (a PostgreSQL listener reconnected: everyone waiting should look again). With SQLite
/// the store raises these itself; with PostgreSQL every instance's listener raises what any instance
/// notified.
/// </summary>
public sealed class TaskEvents
{
    /// <summary>A task reached SUCCESS or FAILED, or was deleted.</summary>
    public event Action<string>? Finished;

    /// <summary>A task was queued (new, re-queued or released): a worker may claim it.</summary>
    public event Action? WorkQueued;

    /// <summary>Announcements may have been lost: every waiter should read its task again.</summary>
    public event Action? Missed;

    public void RaiseFinished(string id) => Finished?.Invoke(id);

    public void RaiseWorkQueued() => WorkQueued?.Invoke();

    public void RaiseMissed() => Missed?.Invoke();
}

using Microsoft.Extensions.Options;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Processing;

/// <summary>
/// One completion signal per task that someone is waiting for (<c>GET …/{id}?wait=N</c>). It is
/// raised by the store's announcement that the task reached SUCCESS or FAILED or was deleted, on
/// whatever instance that happened; when announcements may have been lost (a listener reconnected),
/// every signal is raised, so no waiter sleeps past its result. A signal exists only while it has
/// waiters: it is made by the first and removed by the last. Waiting costs a task, not a thread.
/// </summary>
public sealed class TaskCompletionSignals
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Signal> _signals = new(StringComparer.Ordinal);
    private readonly int _maxWaiters;
    private int _waiters;

    public TaskCompletionSignals(IOptions<ServiceOptions> options, TaskEvents events)
    {
        _maxWaiters = options.Value.LongPollMaxWaiters;
        events.Finished += Raise;
        events.Missed += RaiseAll;
    }

    /// <summary>Requests waiting right now.</summary>
    public int WaiterCount
    {
        get
        {
            lock (_lock)
            {
                return _waiters;
            }
        }
    }

    /// <summary>Tasks that have at least one waiter.</summary>
    public int SignalCount
    {
        get
        {
            lock (_lock)
            {
                return _signals.Count;
            }
        }
    }

    /// <summary>
    /// Starts waiting for a task, or returns null when <see cref="ServiceOptions.LongPollMaxWaiters"/>
    /// requests already wait. Read the task's row after this call, not before: a completion committed
    /// in between would otherwise be missed. Dispose the waiter when done.
    /// </summary>
    public Waiter? TryWait(string taskId)
    {
        lock (_lock)
        {
            if (_waiters >= _maxWaiters)
            {
                return null;
            }

            if (!_signals.TryGetValue(taskId, out var signal))
            {
                signal = new Signal();
                _signals.Add(taskId, signal);
            }

            signal.Waiters++;
            _waiters++;
            return new Waiter(this, taskId, signal);
        }
    }

    /// <summary>Wakes everyone waiting for the task (no-op when nobody is).</summary>
    public void Raise(string taskId)
    {
        Signal? raised;
        lock (_lock)
        {
            _signals.Remove(taskId, out raised);
        }

        // Continuations run on the thread pool (RunContinuationsAsynchronously), never on the worker's thread.
        raised?.Completion.TrySetResult();
    }

    /// <summary>Wakes every waiter: each reads its task again, and waits again if it is still pending.</summary>
    public void RaiseAll()
    {
        List<Signal> raised;
        lock (_lock)
        {
            raised = [.. _signals.Values];
            _signals.Clear();
        }

        foreach (var signal in raised)
        {
            signal.Completion.TrySetResult();
        }
    }

    private void Leave(string taskId, Signal signal)
    {
        lock (_lock)
        {
            _waiters--;
            // A raised signal was already removed; a new one for the same id may have taken its place.
            if (--signal.Waiters == 0 && _signals.TryGetValue(taskId, out var current) && current == signal)
            {
                _signals.Remove(taskId);
            }
        }
    }

    internal sealed class Signal
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Waiters { get; set; }
    }

    /// <summary>One waiting request. Disposing it (once) leaves the signal.</summary>
    public sealed class Waiter : IDisposable
    {
        private readonly TaskCompletionSignals _owner;
        private readonly string _taskId;
        private readonly Signal _signal;
        private int _disposed;

        internal Waiter(TaskCompletionSignals owner, string taskId, Signal signal)
        {
            _owner = owner;
            _taskId = taskId;
            _signal = signal;
        }

        /// <summary>
        /// Completes when the task is raised, the timeout passes or the token is cancelled, whichever
        /// comes first; never throws. Then read the row again to see which it was.
        /// </summary>
        public async Task WaitAsync(TimeSpan timeout, TimeProvider clock, CancellationToken cancellation) =>
            await _signal.Completion.Task.WaitAsync(timeout, clock, cancellation).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _owner.Leave(_taskId, _signal);
            }
        }
    }
}

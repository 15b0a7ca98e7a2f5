using Microsoft.Extensions.Options;

namespace ThumbnailApi.Processing;

/// <summary>
/// How many worker loops are running and how many of them are making a thumbnail right now.
/// The worker reports; readiness and metrics read.
/// </summary>
public sealed class WorkerActivity(IOptions<ServiceOptions> options)
{
    private int _alive;
    private int _busy;

    /// <summary>Worker loops the service is configured to run.</summary>
    public int Expected { get; } = options.Value.WorkerCount;

    public int Alive => Volatile.Read(ref _alive);

    public int Busy => Volatile.Read(ref _busy);

    /// <summary>Counts a worker loop as alive until the returned scope is disposed.</summary>
    public Scope LoopRunning() => new(this, busy: false);

    /// <summary>Counts a worker as busy until the returned scope is disposed.</summary>
    public Scope Working() => new(this, busy: true);

    public readonly struct Scope : IDisposable
    {
        private readonly WorkerActivity _owner;
        private readonly bool _busy;

        internal Scope(WorkerActivity owner, bool busy)
        {
            _owner = owner;
            _busy = busy;
            Interlocked.Increment(ref busy ? ref owner._busy : ref owner._alive);
        }

        public void Dispose() => Interlocked.Decrement(ref _busy ? ref _owner._busy : ref _owner._alive);
    }
}

using Microsoft.Extensions.Options;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Processing;

/// <summary>
/// Several instances on one database: a worker claims the oldest queued task straight from it
/// (PostgreSQL's SKIP LOCKED makes concurrent claimers pass each other). An idle worker sleeps until
/// a queued task chooses this instance (the database notifies one instance with an idle worker) or a
/// slow fallback poll, and the workers tell the database how many of them are idle. Admission counts
/// the queued tasks of every instance.
/// </summary>
public sealed class ClaimTaskFeed : ITaskFeed
{
    /// <summary>How often an idle worker looks for work when no notification came (a lost one, a listener reconnecting).</summary>
    public static readonly TimeSpan FallbackPoll = TimeSpan.FromSeconds(5);

    private readonly ITaskStore _store;
    private readonly TaskLeases _leases;
    private readonly IIdleWorkers _idleReports;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly int _workers;
    private long _depth;
    private int _idle;

    public ClaimTaskFeed(ITaskStore store, TaskLeases leases, IIdleWorkers idleReports, TaskEvents events, IOptions<ServiceOptions> options)
    {
        _store = store;
        _leases = leases;
        _idleReports = idleReports;
        _workers = options.Value.WorkerCount;
        Capacity = options.Value.QueueCapacity;
        events.WorkQueued += WakeOne;
    }

    public int Capacity { get; }

    public long Depth => Interlocked.Read(ref _depth);

    public async ValueTask<bool> HasRoomAsync()
    {
        var queued = await _store.CountQueuedAsync();
        Interlocked.Exchange(ref _depth, queued);
        return queued < Capacity;
    }

    /// <summary>Nothing to hand on: the row is in the database, and its insert notified a claimer.</summary>
    public bool Offer(string id) => true;

    /// <summary>The row is queued again (its update notified a claimer); an idle worker here may take it at once too.</summary>
    public void Return(string id) => WakeOne();

    public Task StartAsync(CancellationToken cancellation) => Task.CompletedTask;

    public async Task<ClaimedTask> NextAsync(CancellationToken cancellation)
    {
        while (true)
        {
            var lease = _leases.New();
            if (await _store.ClaimNextAsync(lease) is { } task)
            {
                return new ClaimedTask(task, lease);
            }

            _idleReports.Report(Interlocked.Increment(ref _idle));
            try
            {
                await _wake.WaitAsync(FallbackPoll, cancellation);
            }
            finally
            {
                _idleReports.Report(Interlocked.Decrement(ref _idle));
            }
        }
    }

    /// <summary>
    /// One notification wakes one idle worker, not all of them. A worker about to go idle finds the
    /// wake-up waiting for it, so a task queued between its empty claim and its sleep is not missed.
    /// </summary>
    private void WakeOne()
    {
        if (_wake.CurrentCount < _workers)
        {
            _wake.Release();
        }
    }
}

using ThumbnailApi.Persistence;

namespace ThumbnailApi.Processing;

/// <summary>
/// Renews a claimed task's lease every third of its duration while the worker holds it. When a
/// renewal finds the claim gone (it expired and was claimed again, the task was deleted), the work is
/// cancelled through <see cref="Lost"/>: its result would be fenced out anyway. A renewal that fails
/// because the database does not answer is tried again at the next beat; the lease may then expire,
/// and the task go to another instance, which is what a lease is for.
/// </summary>
public sealed class LeaseKeeper : IAsyncDisposable
{
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _beating;

    public LeaseKeeper(ITaskStore store, string taskId, TaskLease lease, TaskLeases leases, TimeProvider clock)
    {
        _beating = BeatAsync(store, taskId, lease, leases, clock);
    }

    /// <summary>Cancelled when the claim was lost.</summary>
    public CancellationToken Lost => _lost.Token;

    public bool IsLost => _lost.IsCancellationRequested;

    private async Task BeatAsync(ITaskStore store, string taskId, TaskLease lease, TaskLeases leases, TimeProvider clock)
    {
        using var timer = new PeriodicTimer(leases.Duration / 3, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try
                {
                    if (!await store.RenewLeaseAsync(taskId, lease.RenewedUntil(leases.ExpiryFromNow())))
                    {
                        await _lost.CancelAsync();
                        return;
                    }
                }
                catch (StorageUnavailableException)
                {
                    // Next beat.
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _beating.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        _lost.Dispose();
    }
}

using Microsoft.Extensions.Options;

namespace ThumbnailApi.Processing;

/// <summary>
/// The memory all decoding may use at once (<see cref="ServiceOptions.MaxDecodeMemoryBytes"/>),
/// shared by the workers and by the header checks of uploads. Before it reads a file, a task reserves
/// what the header said it will need, and waits while the budget is taken; reservations are granted
/// in the order they were asked for, so a big image is not starved by a stream of small ones. An
/// upload's header check (small, and over in milliseconds) may go ahead of waiting tasks when it fits
/// in what is free, so an upload does not wait for a big decode to finish. A reservation larger than
/// the whole budget is cut to the budget: it then runs alone.
/// </summary>
public sealed class DecodeMemoryBudget(IOptions<ServiceOptions> options)
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _waiters = [];
    private long _reserved;

    public long Capacity { get; } = options.Value.MaxDecodeMemoryBytes;

    /// <summary>Bytes reserved right now.</summary>
    public long Reserved
    {
        get
        {
            lock (_lock)
            {
                return _reserved;
            }
        }
    }

    /// <summary>Reservations waiting for memory right now.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>
    /// Reserves <paramref name="bytes"/> (at most <see cref="Capacity"/>), waiting until they are free
    /// and every earlier request was served (unless <paramref name="aheadOfWaiting"/> and they are free
    /// now). Dispose the lease to give them back.
    /// </summary>
    public ValueTask<Lease> ReserveAsync(long bytes, CancellationToken cancellation, bool aheadOfWaiting = false)
    {
        var amount = Math.Clamp(bytes, 0, Capacity);
        Waiter waiter;
        lock (_lock)
        {
            if ((_waiters.Count == 0 || aheadOfWaiting) && _reserved + amount <= Capacity)
            {
                _reserved += amount;
                return ValueTask.FromResult(new Lease(this, amount));
            }

            waiter = new Waiter(amount);
            waiter.Node = _waiters.AddLast(waiter);
        }

        return new ValueTask<Lease>(WaitAsync(waiter, cancellation));
    }

    private async Task<Lease> WaitAsync(Waiter waiter, CancellationToken cancellation)
    {
        await using (cancellation.Register(() => Abandon(waiter, cancellation)))
        {
            return await waiter.Granted.Task.ConfigureAwait(false);
        }
    }

    private void Abandon(Waiter waiter, CancellationToken cancellation)
    {
        lock (_lock)
        {
            if (waiter.Node?.List is null)
            {
                return; // granted meanwhile: the lease is the caller's to dispose
            }

            _waiters.Remove(waiter.Node);
            GrantWaiting(); // the next in line may fit now that this one no longer blocks the queue
        }

        waiter.Granted.TrySetCanceled(cancellation);
    }

    private void Release(long amount)
    {
        lock (_lock)
        {
            _reserved -= amount;
            GrantWaiting();
        }
    }

    /// <summary>Grants waiters from the front of the line while they fit. Called under the lock.</summary>
    private void GrantWaiting()
    {
        while (_waiters.First is { } first && _reserved + first.Value.Bytes <= Capacity)
        {
            _waiters.RemoveFirst();
            _reserved += first.Value.Bytes;
            first.Value.Granted.TrySetResult(new Lease(this, first.Value.Bytes));
        }
    }

    private sealed class Waiter(long bytes)
    {
        public long Bytes { get; } = bytes;

        public LinkedListNode<Waiter>? Node { get; set; }

        public TaskCompletionSource<Lease> Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Reserved memory; disposing it (once) gives it back.</summary>
    public sealed class Lease : IDisposable
    {
        private DecodeMemoryBudget? _budget;

        internal Lease(DecodeMemoryBudget budget, long bytes)
        {
            _budget = budget;
            Bytes = bytes;
        }

        public long Bytes { get; }

        public void Dispose() => Interlocked.Exchange(ref _budget, null)?.Release(Bytes);
    }
}

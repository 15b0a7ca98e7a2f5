using ThumbnailApi.Imaging;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// The real pipeline, except that a task asking for width <see cref="StallWidth"/> never finishes on
/// its own. A cooperative stall stops as soon as its deadline fires (as every decoder here checks the
/// deadline every few rows); a stubborn one ignores the deadline (as a decoder stuck inside one native
/// call would) and blocks until <see cref="Release"/> or the end of the test.
/// </summary>
public sealed class StallingThumbnailer(bool cooperative = false) : IThumbnailer, IDisposable
{
    public const int StallWidth = 77;

    private readonly ThumbnailPipeline _pipeline = new(new ImagingLimits());
    private readonly ManualResetEventSlim _release = new(false);
    private readonly TaskCompletionSource _deadlineSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;

    /// <summary>Stalled calls still running (a stubborn stall runs on past its deadline).</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Completes once a stalled call has seen its deadline fire.</summary>
    public Task DeadlineSeen => _deadlineSeen.Task;

    public EncodedThumbnail Create(Stream input, ThumbnailSpec spec, long reservedBytes = long.MaxValue, CancellationToken cancellation = default)
    {
        if (spec.Width != StallWidth)
        {
            return _pipeline.Create(input, spec, reservedBytes, cancellation);
        }

        Interlocked.Increment(ref _running);
        using var registration = cancellation.Register(() => _deadlineSeen.TrySetResult());
        try
        {
            input.Dispose();
            if (cooperative)
            {
                _release.Wait(cancellation);
            }
            else
            {
                _release.Wait(TimeSpan.FromMinutes(2));
            }

            throw new InvalidOperationException("A stalled task was let go at the end of the test.");
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    /// <summary>Lets stubborn stalls end.</summary>
    public void Release() => _release.Set();

    public void Dispose() => _release.Set();
}

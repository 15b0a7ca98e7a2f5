using ThumbnailApi.Imaging;

namespace ThumbnailApi.Tests.Support;

/// <summary>Wraps the real pipeline and holds every call at a gate until the test opens it.</summary>
public sealed class GatedThumbnailer(IThumbnailer inner) : IThumbnailer, IDisposable
{
    private readonly SemaphoreSlim _entered = new(0);
    private int _enteredCount;
    private int _completedCount;
    private readonly ManualResetEventSlim _gate = new(false);

    public GatedThumbnailer()
        : this(new ThumbnailPipeline(new ImagingLimits()))
    {
    }

    public EncodedThumbnail Create(Stream input, ThumbnailSpec spec, long reservedBytes = long.MaxValue, CancellationToken cancellation = default)
    {
        Interlocked.Increment(ref _enteredCount);
        _entered.Release();
        _gate.Wait(TimeSpan.FromSeconds(60));
        try
        {
            return inner.Create(input, spec, reservedBytes, cancellation);
        }
        finally
        {
            Interlocked.Increment(ref _completedCount);
        }
    }

    /// <summary>Waits until a worker is inside the pipeline (held at the gate).</summary>
    public async Task WaitUntilHeldAsync()
    {
        if (!await _entered.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            Assert.Fail("No worker reached the thumbnailer in time.");
        }
    }

    /// <summary>Calls that have gone through the gate and returned (or thrown).</summary>
    public int Completed => Volatile.Read(ref _completedCount);

    /// <summary>Calls that have reached the gate so far.</summary>
    public int Entered => Volatile.Read(ref _enteredCount);

    public void Open() => _gate.Set();

    public void Dispose()
    {
        _gate.Set();
        _gate.Dispose();
        _entered.Dispose();
    }
}

using ThumbnailApi.Imaging;

namespace ThumbnailApi.Tests.Support;

/// <summary>Wraps the real pipeline and holds every call at a gate until the test opens it.</summary>
public sealed class GatedThumbnailer(IThumbnailer inner) : IThumbnailer, IDisposable
{
    private readonly SemaphoreSlim _entered = new(0);
    private readonly ManualResetEventSlim _gate = new(false);

    public GatedThumbnailer()
        : this(new ThumbnailPipeline(new ImagingLimits()))
    {
    }

    public EncodedThumbnail Create(Stream input, ThumbnailSpec spec, long reservedBytes = long.MaxValue, CancellationToken cancellation = default)
    {
        _entered.Release();
        _gate.Wait(TimeSpan.FromSeconds(60));
        return inner.Create(input, spec, reservedBytes, cancellation);
    }

    /// <summary>Waits until a worker is inside the pipeline (held at the gate).</summary>
    public async Task WaitUntilHeldAsync()
    {
        if (!await _entered.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            Assert.Fail("No worker reached the thumbnailer in time.");
        }
    }

    public void Open() => _gate.Set();

    public void Dispose()
    {
        _gate.Set();
        _gate.Dispose();
        _entered.Dispose();
    }
}

using ThumbnailApi.Imaging;

namespace ThumbnailApi.Tests.Support;

/// <summary>The real pipeline, counting how often it runs (to tell a decoded task from a reused one).</summary>
public sealed class CountingThumbnailer : IThumbnailer
{
    private readonly ThumbnailPipeline _pipeline = new(new ImagingLimits());
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public EncodedThumbnail Create(Stream input, ThumbnailSpec spec, long reservedBytes = long.MaxValue, CancellationToken cancellation = default)
    {
        Interlocked.Increment(ref _calls);
        return _pipeline.Create(input, spec, reservedBytes, cancellation);
    }
}

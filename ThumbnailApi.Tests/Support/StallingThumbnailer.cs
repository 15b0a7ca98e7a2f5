using ThumbnailApi.Imaging;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// The real pipeline, except that a task asking for width <see cref="StallWidth"/> never finishes:
/// it blocks, ignoring cancellation (as a native decoder stuck in a hostile file would), until the
/// test ends. Stands in for a hostile image whose decoding runs past the deadline.
/// </summary>
public sealed class StallingThumbnailer : IThumbnailer, IDisposable
{
    public const int StallWidth = 77;

    private readonly ThumbnailPipeline _pipeline = new(new ImagingLimits());
    private readonly ManualResetEventSlim _release = new(false);

    public EncodedThumbnail Create(Stream input, ThumbnailSpec spec, CancellationToken cancellation = default)
    {
        if (spec.Width == StallWidth)
        {
            _release.Wait(TimeSpan.FromMinutes(2));
            input.Dispose();
            throw new InvalidOperationException("A stalled task was let go at the end of the test.");
        }

        return _pipeline.Create(input, spec, cancellation);
    }

    public void Dispose() => _release.Set();
}

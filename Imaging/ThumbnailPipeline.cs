namespace ThumbnailApi.Imaging;

/// <summary>
/// The whole pipeline, in order: sniff and probe → check the memory it needs → decode small (scaled
/// decode + box shrink) → orient → to sRGB → resample → compose → encode. Knows nothing of HTTP,
/// SQL or files.
/// </summary>
public sealed class ThumbnailPipeline(ImagingLimits limits) : IThumbnailer
{
    /// <summary>
    /// Raise it when a change makes different thumbnails from the same bytes and options: thumbnails
    /// made by an earlier revision are then no longer reused for identical uploads.
    /// </summary>
    public const int Revision = 2;

    static ThumbnailPipeline() => NativeHeap.ReturnLargeBlocksPromptly();

    public EncodedThumbnail Create(Stream input, ThumbnailSpec spec, long reservedBytes = long.MaxValue, CancellationToken cancellation = default)
    {
        using var owned = input;
        using var source = HeaderProbe.Open(input, limits, cancellation);
        var plan = ResizePlan.Create(source.Header, spec);
        CheckMemory(source.MemoryBytes(plan), reservedBytes);
        using var stored = source.DecodeShrunk(plan.MinDecode.Width, plan.MinDecode.Height, cancellation);
        using var oriented = Orient.Apply(stored, source.Header.Origin);
        using var srgb = ToSrgb.Apply(oriented, source.ColourSpace);
        using var resized = Resample.ToPlan(srgb, plan, cancellation);
        using var composed = Compose.OnCanvas(resized, plan);
        return Encode.As(composed, plan.Format, spec.Quality);
    }

    private void CheckMemory(long needed, long reserved)
    {
        HeaderProbe.EnforceMemoryLimit(needed, limits);
        if (needed > reserved)
        {
            throw new MemoryShortfallException(needed, reserved);
        }
    }
}

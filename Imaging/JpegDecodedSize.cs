namespace ThumbnailApi.Imaging;

/// <summary>
/// What the pixel limit counts for a JPEG: the size libjpeg decodes it at, after its DCT scaling (1/2,
/// 1/4, 1/8), for the most demanding thumbnail a client may ask for (a side of
/// <see cref="ThumbnailSpec.MaxSide"/>, with <see cref="ResizePlan.ResampleGap"/> left to the
/// resampler), but never less than half the width and half the height: libjpeg still reads every
/// block of the file, so a header of tens of thousands of pixels a side is refused as before. A
/// 12288×8192 camera JPEG (100.7 MP) counts as 6144×4096.
/// </summary>
public static class JpegDecodedSize
{
    private const int SmallestCountedScaleDenominator = 2;

    public static (long Width, long Height) Of(long width, long height)
    {
        var needed = Math.Min(Math.Min(width, height), (long)Math.Ceiling(ResizePlan.ResampleGap * ThumbnailSpec.MaxSide));
        var denominator = 1;
        while (denominator < SmallestCountedScaleDenominator && ScaledSide(Math.Min(width, height), denominator * 2) >= needed)
        {
            denominator *= 2;
        }

        return (ScaledSide(width, denominator), ScaledSide(height, denominator));
    }

    /// <summary>libjpeg's scaled size: the side divided, rounded up.</summary>
    private static long ScaledSide(long side, int denominator) => (side + denominator - 1) / denominator;
}

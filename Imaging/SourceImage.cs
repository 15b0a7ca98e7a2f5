using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>An opened, probed input: its header, and a decoder that can deliver it shrunk.</summary>
public abstract class SourceImage : IDisposable
{
    private protected SourceImage(EncodedInput input) => Input = input;

    public required ImageHeader Header { get; init; }

    /// <summary>The encoded bytes the decoder reads; released after the decoder.</summary>
    private protected EncodedInput Input { get; }

    /// <summary>
    /// The colour space the decoded pixels are in when the decoder could not convert them to sRGB
    /// itself (an ICC profile in a TIFF); null when they are sRGB already.
    /// </summary>
    public SKColorSpace? ColourSpace { get; init; }

    /// <summary>
    /// Decodes the stored (not yet oriented) picture at no less than <paramref name="minWidth"/> ×
    /// <paramref name="minHeight"/>, using the decoder's own scaling and an integer box shrink, so that
    /// no more than a small multiple of the target ever sits in memory when the format allows it.
    /// </summary>
    public abstract ScaledBitmap DecodeShrunk(int minWidth, int minHeight, CancellationToken cancellation);

    /// <summary>
    /// Memory making this thumbnail needs at most, worked out from the header: the encoded file (held
    /// while decoding), the decoder's own buffers, the shrunk picture and the steps after it, and a
    /// fixed allowance for the codecs' small structures. Measured against real decodes: bench/README.md.
    /// </summary>
    public long MemoryBytes(ResizePlan plan) => Input.Length + FixedOverheadBytes + DecoderWorkingBytes(plan);

    /// <summary>Codec objects, colour transforms, small row buffers and the encoder: measured at a few megabytes.</summary>
    private const long FixedOverheadBytes = 8L * 1024 * 1024;

    /// <summary>The decoder's buffers plus <see cref="ShrunkBytes"/>, for this plan.</summary>
    protected abstract long DecoderWorkingBytes(ResizePlan plan);

    /// <summary>
    /// What the steps after decoding hold for a picture decoded at <paramref name="decodedWidth"/> ×
    /// <paramref name="decodedHeight"/>: the box-shrunk copy, up to two more copies of it (orient, to
    /// sRGB), the resampler's buffer and output, and the canvas and its encoding.
    /// </summary>
    protected static long ShrunkBytes(int decodedWidth, int decodedHeight, ResizePlan plan)
    {
        var width = (decodedWidth + BoxFactor(decodedWidth, plan.MinDecode.Width) - 1L) / BoxFactor(decodedWidth, plan.MinDecode.Width);
        var height = (decodedHeight + BoxFactor(decodedHeight, plan.MinDecode.Height) - 1L) / BoxFactor(decodedHeight, plan.MinDecode.Height);
        var canvas = (long)plan.Canvas.Width * plan.Canvas.Height;
        return 3 * 4 * width * height + 16 * Math.Max(width, height) * Math.Max(plan.Content.Width, plan.Content.Height) + 8 * canvas;
    }

    public void Dispose()
    {
        DisposeDecoder();
        Input.Dispose();
    }

    /// <summary>Releases the decoder, which may still hold the encoded bytes.</summary>
    protected abstract void DisposeDecoder();

    /// <summary>The Skia pixel layout every decoder produces: 8-bit RGBA, premultiplied, sRGB.</summary>
    internal static SKImageInfo WorkingInfo(int width, int height) =>
        new(width, height, SKColorType.Rgba8888, SKAlphaType.Premul, SKColorSpace.CreateSrgb());

    /// <summary>
    /// The integer box factor that leaves at least <paramref name="min"/> pixels of <paramref name="size"/>,
    /// at most <see cref="BoxShrinker.MaxFactor"/> (a tiny thumbnail of a huge picture is finished by the resampler).
    /// </summary>
    internal static int BoxFactor(int size, int min) => Math.Clamp(size / Math.Max(1, min), 1, BoxShrinker.MaxFactor);
}

using SkiaSharp;
using ThumbnailApi.Imaging.Heif;

namespace ThumbnailApi.Imaging;

/// <summary>
/// HEIC (HEVC) and AVIF (AV1) through libheif. Opening reads the container only (the item
/// properties: size from <c>ispe</c>, alpha, colour profile, stored thumbnails); nothing is decoded
/// until <see cref="DecodeShrunk"/>, which decodes in a process of its own (<see cref="Heif.HeifDecodeChild"/>
/// says why) and shrinks the rows as they arrive. libheif applies the <c>irot</c>/<c>imir</c> transformations
/// while decoding and reports the size after them, so the header's origin is always top-left and
/// an EXIF orientation inside the file is not applied again. libheif cannot decode at reduced size;
/// when the file carries a stored thumbnail (iPhones write one) that is at least as big as the
/// thumbnail needs, that is decoded instead of the full picture. The primary image of a burst or a
/// sequence is the one used.
/// </summary>
internal sealed unsafe class HeifSource : SourceImage
{
    /// <summary>
    /// Decoder memory per pixel of a full decode: the interleaved RGBA result (4), libheif's YCbCr
    /// planes (up to 2 bytes a sample for 10-bit, 4:2:0: 3) and the codec's own frame buffers.
    /// </summary>
    private const long BytesPerDecodedPixel = 14;

    private readonly (uint Id, int Width, int Height)[] _thumbnails;

    private HeifSource(EncodedInput input, (uint, int, int)[] thumbnails)
        : base(input) => _thumbnails = thumbnails;

    public static HeifSource Open(EncodedInput input, ImageFormat format)
    {
        if (!HeifLibrary.Support.Decodes(format))
        {
            throw new ImageRejectedException(Rejection.UnsupportedFormat, HeifLibrary.MissingMessage(format));
        }

        // Everything needed later is read now; the container is let go before this returns (the
        // picture is decoded by another process, from the upload's bytes).
        var context = HeifNative.ContextAlloc();
        nint primary = 0;
        try
        {
            Check(HeifNative.ReadFromMemoryWithoutCopy(context, input.Pointer, (nuint)input.Length, 0), format, "container cannot be read");
            Check(HeifNative.PrimaryImageHandle(context, out primary), format, "primary image cannot be read");
            var width = HeifNative.HandleWidth(primary);
            var height = HeifNative.HandleHeight(primary);
            var opaque = HeifNative.HandleHasAlpha(primary) == 0;
            return new HeifSource(input, Thumbnails(primary))
            {
                Header = new ImageHeader(format, width, height, Math.Max(1, HeifNative.NumberOfTopLevelImages(context)), SKEncodedOrigin.TopLeft) { Opaque = opaque },
                ColourSpace = EmbeddedColourSpace(primary),
            };
        }
        finally
        {
            if (primary != 0)
            {
                HeifNative.HandleRelease(primary);
            }

            HeifNative.ContextFree(context);
        }
    }

    protected override long DecoderWorkingBytes(ResizePlan plan)
    {
        var (_, width, height) = Chosen(plan.MinDecode.Width, plan.MinDecode.Height);
        return BytesPerDecodedPixel * width * height + ShrunkBytes(width, height, plan);
    }

    public override ScaledBitmap DecodeShrunk(int minWidth, int minHeight, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        var (id, _, _) = Chosen(minWidth, minHeight);

        // Decoded in a process of its own (HeifDecodeChild says why), its rows shrunk as they arrive.
        using var child = HeifDecodeProcess.Start(Input, Header.Format, id, cancellation);
        var (width, height) = (child.Width, child.Height);
        if (width <= 0 || height <= 0 || (long)width * height > Math.Max(1, Header.PixelCount))
        {
            throw ImageRejectedException.Corrupt($"the {Header.Format.CommonName()} picture decodes to {width}×{height}, not the {Header.Width}×{Header.Height} its header says");
        }

        var factorX = BoxFactor(width, minWidth);
        var factorY = BoxFactor(height, minHeight);
        using var shrinker = new BoxShrinker(width, height, factorX, factorY, (double)width / Header.Width, (double)height / Header.Height);
        var row = new byte[4 * width];
        for (var y = 0; y < height; y++)
        {
            child.ReadRow(row, cancellation);
            if (!Header.Opaque)
            {
                Premultiply(row);
            }

            shrinker.AddRow(y, row);
        }

        child.Finish(cancellation);
        return shrinker.Finish();
    }

    /// <summary>Multiplies each pixel's colour by its alpha, in place (libheif hands alpha over straight).</summary>
    private static void Premultiply(Span<byte> row)
    {
        for (var i = 0; i < row.Length; i += 4)
        {
            var alpha = row[i + 3];
            row[i] = (byte)((row[i] * alpha + 127) / 255);
            row[i + 1] = (byte)((row[i + 1] * alpha + 127) / 255);
            row[i + 2] = (byte)((row[i + 2] * alpha + 127) / 255);
        }
    }

    /// <summary>The smallest stored thumbnail that still covers <paramref name="minWidth"/> × <paramref name="minHeight"/>, or the primary image (id 0).</summary>
    private (uint Id, int Width, int Height) Chosen(int minWidth, int minHeight)
    {
        var best = (Id: 0u, Width: Header.Width, Height: Header.Height);
        foreach (var thumbnail in _thumbnails)
        {
            if (thumbnail.Width >= minWidth && thumbnail.Height >= minHeight && (long)thumbnail.Width * thumbnail.Height < (long)best.Width * best.Height
                && Math.Abs((double)thumbnail.Width / thumbnail.Height - (double)Header.Width / Header.Height) < 0.02)
            {
                best = thumbnail;
            }
        }

        return best;
    }

    private static (uint, int, int)[] Thumbnails(nint primary)
    {
        var count = HeifNative.NumberOfThumbnails(primary);
        if (count <= 0)
        {
            return [];
        }

        var ids = new uint[Math.Min(count, 16)];
        fixed (uint* list = ids)
        {
            count = HeifNative.ThumbnailIds(primary, list, ids.Length);
        }

        var found = new List<(uint, int, int)>();
        foreach (var id in ids.Take(count))
        {
            if (!HeifNative.Thumbnail(primary, id, out var handle).Failed)
            {
                found.Add((id, HeifNative.HandleWidth(handle), HeifNative.HandleHeight(handle)));
                HeifNative.HandleRelease(handle);
            }
        }

        return [.. found];
    }

    /// <summary>The ICC profile the file carries (iPhones write Display P3), applied like every other format's.</summary>
    private static SKColorSpace? EmbeddedColourSpace(nint handle)
    {
        var type = HeifNative.ColourProfileType(handle);
        if (type is not (HeifNative.ColourProfileIcc or HeifNative.ColourProfileRestrictedIcc))
        {
            return null;
        }

        var size = (int)Math.Min(HeifNative.RawColourProfileSize(handle), 4 << 20);
        if (size <= 0)
        {
            return null;
        }

        var profile = new byte[size];
        fixed (byte* bytes = profile)
        {
            return HeifNative.RawColourProfile(handle, bytes).Failed ? null : SKColorSpace.CreateIcc(profile);
        }
    }

    private static void Check(HeifNative.Error error, ImageFormat format, string whatFailed)
    {
        if (error.Failed)
        {
            throw error.ToRejection(format, whatFailed);
        }
    }

    protected override void DisposeDecoder() => ColourSpace?.Dispose();
}

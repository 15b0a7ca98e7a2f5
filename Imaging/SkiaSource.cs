using System.Buffers;
using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>PNG, JPEG, GIF, BMP and WebP through Skia's codecs.</summary>
internal sealed class SkiaSource : SourceImage
{
    private readonly SKCodec _codec;
    private readonly bool _progressiveJpeg;

    private SkiaSource(EncodedInput input, SKCodec codec, bool progressiveJpeg)
        : base(input)
    {
        _codec = codec;
        _progressiveJpeg = progressiveJpeg;
    }

    public static SkiaSource Open(EncodedInput input, ImageFormat format)
    {
        SKEncodedOrigin? exifOrigin;
        bool progressiveJpeg;
        using (var stream = input.OpenStream())
        {
            exifOrigin = EmbeddedExif.Origin(stream, format);
            progressiveJpeg = format == ImageFormat.Jpeg && JpegFrame.IsProgressive(stream);
        }

        // Skia reads the bytes in memory through its own native stream: no managed code runs while it decodes.
        using var data = input.ToSkData();
        var codec = SKCodec.Create(new SKMemoryStream(data), out var result);
        if (codec is null)
        {
            throw result == SKCodecResult.Unimplemented
                ? new ImageRejectedException(Rejection.UnsupportedFormat, $"This {format.MimeType()} variant is not supported.")
                : ImageRejectedException.Corrupt($"the {format.MimeType()} header cannot be read");
        }

        var info = codec.Info;
        return new SkiaSource(input, codec, progressiveJpeg)
        {
            Header = new ImageHeader(format, info.Width, info.Height, Math.Max(1, codec.FrameCount),
                codec.EncodedOrigin == SKEncodedOrigin.TopLeft ? exifOrigin ?? SKEncodedOrigin.TopLeft : codec.EncodedOrigin),
        };
    }

    public override ScaledBitmap DecodeShrunk(int minWidth, int minHeight, CancellationToken cancellation)
    {
        var picture = Decode(minWidth, minHeight, cancellation);

        // One rule for damaged data in every decoder: a file cut short is corrupt. Skia reports that
        // itself, except for a progressive JPEG, which libjpeg fills in from the scans it has. Checked
        // after the decode, when Skia no longer reads the stream.
        if (_progressiveJpeg && !ReachesEndOfImage())
        {
            picture.Dispose();
            throw ImageRejectedException.Corrupt("the file ends before the picture does");
        }

        return picture;
    }

    private bool ReachesEndOfImage()
    {
        using var stream = Input.OpenStream();
        return JpegFrame.ReachesEndOfImage(stream);
    }

    private ScaledBitmap Decode(int minWidth, int minHeight, CancellationToken cancellation)
    {
        var size = ScaledDecodeSize(minWidth, minHeight);
        var factorX = BoxFactor(size.Width, minWidth);
        var factorY = BoxFactor(size.Height, minHeight);
        var info = WorkingInfo(size.Width, size.Height);
        var scaleX = (double)size.Width / Header.Width;
        var scaleY = (double)size.Height / Header.Height;

        if (factorX == 1 && factorY == 1)
        {
            return new ScaledBitmap(DecodeWhole(info), scaleX, scaleY);
        }

        using var shrinker = new BoxShrinker(info.Width, info.Height, factorX, factorY, scaleX, scaleY);
        if (_codec.StartScanlineDecode(info) == SKCodecResult.Success)
        {
            ShrinkScanlines(info, factorY, shrinker, cancellation);
        }
        else
        {
            using var whole = DecodeWhole(info);
            cancellation.ThrowIfCancellationRequested();
            ShrinkBitmap(whole, shrinker);
        }

        return shrinker.Finish();
    }

    /// <summary>
    /// The smallest size the codec itself can decode to that still covers the minimum: JPEG's DCT
    /// scaling (1/2, 1/4, 1/8) and WebP's rescaler average properly. Other formats only subsample,
    /// which aliases, so they decode at full size and are box-shrunk instead.
    /// </summary>
    private SKSizeI ScaledDecodeSize(int minWidth, int minHeight)
    {
        var full = _codec.Info.Size;
        float[] scales = Header.Format switch
        {
            ImageFormat.Jpeg => [1 / 8f, 1 / 4f, 1 / 2f],
            ImageFormat.WebP => [Math.Max((float)minWidth / full.Width, (float)minHeight / full.Height)],
            _ => [],
        };
        foreach (var scale in scales)
        {
            if (scale >= 1)
            {
                break;
            }

            var size = _codec.GetScaledDimensions(scale);
            if (size.Width >= minWidth && size.Height >= minHeight && size.Width > 0 && size.Height > 0)
            {
                return size;
            }
        }

        return full;
    }

    private SKBitmap DecodeWhole(SKImageInfo info)
    {
        var bitmap = new SKBitmap(info);
        try
        {
            ThrowIfFailed(_codec.GetPixels(info, bitmap.GetPixels()));
            return bitmap;
        }
        catch
        {
            bitmap.Dispose();
            throw;
        }
    }

    private unsafe void ShrinkScanlines(SKImageInfo info, int batchRows, BoxShrinker shrinker, CancellationToken cancellation)
    {
        var rowBytes = info.RowBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(rowBytes * batchRows);
        try
        {
            fixed (byte* rows = buffer)
            {
                for (var done = 0; done < info.Height;)
                {
                    cancellation.ThrowIfCancellationRequested();
                    var wanted = Math.Min(batchRows, info.Height - done);
                    var decoded = _codec.GetScanlines((IntPtr)rows, wanted, rowBytes);
                    if (decoded < wanted)
                    {
                        throw ImageRejectedException.Corrupt("the file ends before the picture does");
                    }

                    for (var i = 0; i < decoded; i++)
                    {
                        shrinker.AddRow(_codec.GetOutputScanline(done + i), new ReadOnlySpan<byte>(rows + i * rowBytes, rowBytes));
                    }

                    done += decoded;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static unsafe void ShrinkBitmap(SKBitmap bitmap, BoxShrinker shrinker)
    {
        var pixels = (byte*)bitmap.GetPixels();
        for (var y = 0; y < bitmap.Height; y++)
        {
            shrinker.AddRow(y, new ReadOnlySpan<byte>(pixels + (long)y * bitmap.RowBytes, bitmap.RowBytes));
        }
    }

    private static void ThrowIfFailed(SKCodecResult result)
    {
        switch (result)
        {
            case SKCodecResult.Success:
                return;
            case SKCodecResult.IncompleteInput:
                throw ImageRejectedException.Corrupt("the file ends before the picture does");
            case SKCodecResult.Unimplemented:
                throw new ImageRejectedException(Rejection.UnsupportedFormat, "This image variant cannot be decoded.");
            default:
                throw ImageRejectedException.Corrupt($"decoder result: {result}");
        }
    }

    protected override void DisposeDecoder() => _codec.Dispose();
}

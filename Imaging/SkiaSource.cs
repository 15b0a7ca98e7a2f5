using System.Buffers;
using System.Diagnostics;
using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>
/// PNG, JPEG, GIF, BMP and WebP through Skia's codecs. Every decode is done in pieces with the
/// deadline checked between them: row batches where the codec decodes scanlines (JPEG, BMP),
/// slices of the file where it decodes incrementally (PNG, GIF). WebP is the exception: libwebp
/// decodes a picture in one call that cannot be stopped (it is scaled while it decodes, so it
/// needs little memory, and its cost is bounded by the upload and pixel limits).
/// </summary>
internal sealed class SkiaSource : SourceImage
{
    /// <summary>
    /// Pictures up to this size are decoded in one call when the codec has no scanline decoding: at
    /// most a few hundred milliseconds, and faster than Skia's incremental decoding, which costs PNG
    /// about a third more. Bigger ones are decoded incrementally, a slice of the file per call.
    /// </summary>
    private const long OneCallPixels = 8_000_000;

    /// <summary>First slice of the file for an incremental decode (zlib or LZW inflate it at most ~1000 times).</summary>
    private const long FirstStepBytes = 16 * 1024;

    /// <summary>Largest slice: with the decode budget, a slice stays well under a second of decoding.</summary>
    private const long MaxStepBytes = 2L * 1024 * 1024;

    /// <summary>Slices double while a call takes less than this.</summary>
    private static readonly TimeSpan FastStep = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// An interlaced PNG is decoded in about this many slices: Skia converts every row decoded so far
    /// on each call (its passes change every row), so each call costs a pass over the whole picture.
    /// </summary>
    private const int InterlacedSlices = 8;

    /// <summary>Decoded rows handed over per scanline call (at least one output row of the box shrink).</summary>
    private const int ScanlineBatchBytes = 256 * 1024;

    private readonly SKCodec _codec;
    private readonly DecoderStream? _stream;
    private readonly bool _progressiveJpeg;
    private readonly long _decoderBytes;
    private readonly bool _scanlines;
    private readonly bool _interlaced;

    private SkiaSource(EncodedInput input, SKCodec codec, DecoderStream? stream, bool progressiveJpeg, long decoderBytes, bool scanlines, bool interlaced)
        : base(input)
    {
        _interlaced = interlaced;
        _codec = codec;
        _stream = stream;
        _progressiveJpeg = progressiveJpeg;
        _decoderBytes = decoderBytes;
        _scanlines = scanlines;
    }

    public static SkiaSource Open(EncodedInput input, ImageFormat format, CancellationToken cancellation)
    {
        SKEncodedOrigin? exifOrigin;
        bool progressiveJpeg;
        long coefficientBytes;
        using (var bytes = input.OpenStream())
        {
            exifOrigin = EmbeddedExif.Origin(bytes, format);
            var frame = format == ImageFormat.Jpeg ? JpegFrame.Read(bytes) : null;
            progressiveJpeg = frame?.Progressive ?? false;
            coefficientBytes = frame is { Progressive: true } ? frame.CoefficientBytes : 0;
        }

        // WebP is read whole from memory by libwebp (it cannot be interrupted anyway), and a baseline
        // JPEG is decoded a batch of rows at a time (the deadline is checked between batches): Skia's
        // memory stream lets them use the upload's bytes without a copy, and gives libjpeg the whole
        // file as its input buffer, so it stays on its fast Huffman path (a 24 MP JPEG: ~6 % faster).
        // Every other codec reads through a stream that ends when the deadline passes and that can
        // show the file a slice at a time (a progressive JPEG reads all its scans in one call).
        var stream = format == ImageFormat.WebP || (format == ImageFormat.Jpeg && !progressiveJpeg) ? null : new DecoderStream(input, cancellation);
        SKCodec? codec;
        SKCodecResult result;
        if (stream is null)
        {
            using var data = input.ToSkData();
            codec = SKCodec.Create(new SKMemoryStream(data), out result);
        }
        else
        {
            codec = SKCodec.Create(stream, out result);
        }

        if (codec is null)
        {
            cancellation.ThrowIfCancellationRequested();
            var variant = format == ImageFormat.Bmp ? BmpVariant.Unsupported(input.Head(64)) : null;
            throw variant is not null || result == SKCodecResult.Unimplemented
                ? UnsupportedVariant(format, variant)
                : ImageRejectedException.Corrupt($"the {format.CommonName()} header cannot be read");
        }

        var info = codec.Info;
        var png = PngLayout.Read(input.Head(PngLayout.BytesNeeded));
        var decoderBytes = format switch
        {
            ImageFormat.Png => png.DecoderBytes(info.Width, info.Height),
            ImageFormat.Jpeg => coefficientBytes + JpegRowBytes(info.Width),
            ImageFormat.WebP => WebpLayout.DecoderBytes(input, info.Width, info.Height),
            _ => 0, // GIF is decoded straight into the picture; BMP a few rows at a time
        };
        var scanlines = format is ImageFormat.Jpeg || (format is ImageFormat.Bmp && codec.StartScanlineDecode(WorkingInfo(info.Width, info.Height)) == SKCodecResult.Success);
        return new SkiaSource(input, codec, stream, progressiveJpeg, decoderBytes, scanlines, format == ImageFormat.Png && png.Interlaced)
        {
            Header = new ImageHeader(format, info.Width, info.Height, Math.Max(1, codec.FrameCount),
                codec.EncodedOrigin == SKEncodedOrigin.TopLeft ? exifOrigin ?? SKEncodedOrigin.TopLeft : codec.EncodedOrigin),
        };
    }

    private static ImageRejectedException UnsupportedVariant(ImageFormat format, string? variant) =>
        new(Rejection.UnsupportedFormat, variant is null
            ? $"This {format.CommonName()} file is of a kind that cannot be read here; re-save it as PNG or JPEG."
            : $"This is {variant}, which cannot be read here; re-save it as PNG or JPEG.");

    /// <summary>libjpeg's buffers for one row of MCUs (up to 16 rows of every component, before and after upsampling).</summary>
    private static long JpegRowBytes(int width) => 16L * 4 * 4 * width;

    /// <summary>
    /// The decoder's own buffers, then what it decodes into: a batch of rows (scanline decoding) or
    /// the whole picture at the size the codec scales to.
    /// </summary>
    protected override long DecoderWorkingBytes(ResizePlan plan)
    {
        var size = ScaledDecodeSize(plan.MinDecode.Width, plan.MinDecode.Height);
        var output = _scanlines
            ? Math.Max(ScanlineBatchBytes, 4L * size.Width * BoxFactor(size.Height, plan.MinDecode.Height))
            : 4L * size.Width * size.Height;
        return _decoderBytes + output + ShrunkBytes(size.Width, size.Height, plan);
    }

    /// <summary>False for a GIF that is itself a rewrite, so a refusal is final.</summary>
    private bool _mayRewriteGif = true;

    public override ScaledBitmap DecodeShrunk(int minWidth, int minHeight, CancellationToken cancellation)
    {
        ScaledBitmap picture;
        try
        {
            picture = Decode(minWidth, minHeight, cancellation);
        }
        catch (ImageRejectedException rejected) when (rejected.Reason == Rejection.CorruptImage && Header.Format == ImageFormat.Gif
                                                      && _mayRewriteGif && GifCodeSize.RewriteFirstFrame(Input, GifCodeSize.MaxRewrittenPixels) is { } rewritten)
        {
            // Skia's GIF decoder is stricter than Pillow's and the browsers' about LZW data: decode what
            // Pillow's rules decode whole, written again in the plainest form.
            SkiaSource again;
            try
            {
                again = Open(rewritten, ImageFormat.Gif, cancellation);
            }
            catch
            {
                rewritten.Dispose();
                throw;
            }

            using (again)
            {
                again._mayRewriteGif = false;
                return again.DecodeShrunk(minWidth, minHeight, cancellation);
            }
        }

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

        var started = _codec.StartScanlineDecode(info);
        cancellation.ThrowIfCancellationRequested();
        if (started == SKCodecResult.Success)
        {
            using var shrinker = new BoxShrinker(info.Width, info.Height, factorX, factorY, scaleX, scaleY);
            ShrinkScanlines(info, factorY, shrinker, cancellation);
            return shrinker.Finish();
        }

        var whole = DecodeWhole(info, cancellation);
        if (factorX == 1 && factorY == 1)
        {
            return new ScaledBitmap(whole, scaleX, scaleY);
        }

        using (whole)
        using (var shrinker = new BoxShrinker(info.Width, info.Height, factorX, factorY, scaleX, scaleY))
        {
            ShrinkBitmap(whole, shrinker, cancellation);
            return shrinker.Finish();
        }
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

    /// <summary>
    /// The whole picture, for codecs without scanline decoding: incrementally, a slice of the file at
    /// a time, where the codec allows it (PNG, GIF), else in one call (WebP).
    /// </summary>
    private SKBitmap DecodeWhole(SKImageInfo info, CancellationToken cancellation)
    {
        var bitmap = KeptBitmap.Create(info);
        try
        {
            if (_stream is null || (long)info.Width * info.Height <= OneCallPixels || !DecodeIncrementally(bitmap, cancellation))
            {
                var result = _codec.GetPixels(info, bitmap.GetPixels());
                cancellation.ThrowIfCancellationRequested();
                ThrowIfFailed(result, Header.Format);
            }

            return bitmap;
        }
        catch
        {
            bitmap.Dispose();
            throw;
        }
    }

    /// <summary>False when the codec has no incremental decode; throws when it fails.</summary>
    private bool DecodeIncrementally(SKBitmap bitmap, CancellationToken cancellation)
    {
        var stream = _stream!;
        var step = _interlaced ? Math.Max(FirstStepBytes, Input.Length / InterlacedSlices + 1) : FirstStepBytes;
        stream.AllowNext(step);
        var result = _codec.StartIncrementalDecode(bitmap.Info, bitmap.GetPixels(), bitmap.RowBytes);
        if (result == SKCodecResult.Unimplemented)
        {
            stream.AllowAll();
            return false;
        }

        var idleCalls = 0;
        while (result is SKCodecResult.Success or SKCodecResult.IncompleteInput)
        {
            cancellation.ThrowIfCancellationRequested();
            var readBefore = stream.BytesRead;
            var started = Stopwatch.GetTimestamp();
            result = _codec.IncrementalDecode();
            var took = Stopwatch.GetElapsedTime(started);
            if (result == SKCodecResult.Success)
            {
                return true;
            }

            if (result == SKCodecResult.IncompleteInput)
            {
                cancellation.ThrowIfCancellationRequested();
                idleCalls = stream.BytesRead == readBefore ? idleCalls + 1 : 0;
                if ((stream.AtEnd && idleCalls > 0) || idleCalls > 2)
                {
                    break; // the whole file read (or nothing read at all, call after call) and the picture is still incomplete: it is cut short
                }

                step = took < FastStep && !_interlaced ? Math.Min(step * 2, MaxStepBytes) : step;
                stream.AllowNext(step);
            }
        }

        cancellation.ThrowIfCancellationRequested(); // a stream ended by the deadline makes the codec fail (CouldNotRewind, IncompleteInput)
        ThrowIfFailed(result, Header.Format);
        return true;
    }

    private unsafe void ShrinkScanlines(SKImageInfo info, int factorY, BoxShrinker shrinker, CancellationToken cancellation)
    {
        var rowBytes = info.RowBytes;
        var batchRows = Math.Max(factorY, ScanlineBatchBytes / Math.Max(1, rowBytes));
        var bottomUp = _codec.ScanlineOrder == SKCodecScanlineOrder.BottomUp;
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
                        cancellation.ThrowIfCancellationRequested();
                        throw ImageRejectedException.Corrupt("the file ends before the picture does");
                    }

                    // A bottom-up codec (BMP) also fills a batch bottom-up: the first row it decodes is the batch's last.
                    for (var i = 0; i < decoded; i++)
                    {
                        var at = bottomUp ? decoded - 1 - i : i;
                        shrinker.AddRow(_codec.GetOutputScanline(done + i), new ReadOnlySpan<byte>(rows + (long)at * rowBytes, rowBytes));
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

    private static unsafe void ShrinkBitmap(SKBitmap bitmap, BoxShrinker shrinker, CancellationToken cancellation)
    {
        var pixels = (byte*)bitmap.GetPixels();
        for (var y = 0; y < bitmap.Height; y++)
        {
            if ((y & 255) == 0)
            {
                cancellation.ThrowIfCancellationRequested();
            }

            shrinker.AddRow(y, new ReadOnlySpan<byte>(pixels + (long)y * bitmap.RowBytes, bitmap.RowBytes));
        }
    }

    private static void ThrowIfFailed(SKCodecResult result, ImageFormat format)
    {
        switch (result)
        {
            case SKCodecResult.Success:
                return;
            case SKCodecResult.IncompleteInput:
                throw ImageRejectedException.Corrupt("the file ends before the picture does");
            case SKCodecResult.Unimplemented:
                throw UnsupportedVariant(format, null);
            default:
                throw ImageRejectedException.Corrupt($"decoder result: {result}");
        }
    }

    protected override void DisposeDecoder() => _codec.Dispose();
}

using BitMiracle.LibTiff.Classic;
using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>
/// TIFF through LibTiff.NET (Skia has no TIFF decoder): first page only, read one strip or tile row
/// (a band) at a time through libtiff's RGBA interface, which handles every compression, bit depth,
/// photometric and planar layout it knows. LibTiff.NET's managed LZW and Deflate are the slow part,
/// so bands of those files are decoded on several cores at once, each by its own reader.
/// </summary>
internal sealed partial class TiffSource : SourceImage
{
    /// <summary>Most readers (lanes) one picture is decoded by.</summary>
    private const int MaxLanes = 4;

    /// <summary>Memory (blocks, bands, stored blocks) one picture's readers may hold together; one reader always may.</summary>
    private const long LaneBudgetBytes = 64L * 1024 * 1024;

    private readonly Tiff _tiff;
    private readonly TiffLayout _layout;

    static TiffSource() => Tiff.SetErrorHandler(new QuietErrorHandler());

    private TiffSource(EncodedInput input, Tiff tiff, TiffLayout layout)
        : base(input)
    {
        _tiff = tiff;
        _layout = layout;
    }

    public static TiffSource Open(EncodedInput input, ImagingLimits limits)
    {
        TiffFirstPage first;
        using (var stream = input.OpenStream())
        {
            first = TiffHeader.Read(stream, limits);
        }

        var tiff = OpenReader(input);
        try
        {
            var header = Guard(() => ReadHeader(tiff, first.Pages));
            var layout = Guard(() => TiffLayout.Read(tiff, header.Width, header.Height, input));
            return new TiffSource(input, tiff, layout) { Header = header, ColourSpace = Guard(() => EmbeddedColourSpace(tiff)) };
        }
        catch
        {
            tiff.Dispose();
            throw;
        }
    }

    private static Tiff OpenReader(EncodedInput input)
    {
        var tiff = Guard(() => Tiff.ClientOpen("upload", "r", input.OpenStream(), new TiffStream()))
                   ?? throw ImageRejectedException.Corrupt("the TIFF header cannot be read");
        try
        {
            return Guard(() => PrepareForRgba(tiff));
        }
        catch
        {
            tiff.Dispose();
            throw;
        }
    }

    /// <summary>What every reader of the page needs set before libtiff's RGBA interface reads it.</summary>
    private static Tiff PrepareForRgba(Tiff tiff)
    {
        var photometric = (Photometric)(tiff.GetField(TiffTag.PHOTOMETRIC)?[0].ToInt() ?? -1);
        var compression = (Compression)(tiff.GetFieldDefaulted(TiffTag.COMPRESSION)?[0].ToInt() ?? 1);
        var samples = tiff.GetFieldDefaulted(TiffTag.SAMPLESPERPIXEL)?[0].ToInt() ?? 1;
        if (compression == Compression.JPEG && photometric == Photometric.YCBCR)
        {
            // libjpeg converts to RGB (the RGBA interface asks for it too), so rows and blocks are RGB.
            tiff.SetField(TiffTag.JPEGCOLORMODE, JpegColorMode.RGB);
        }

        // RGB with four samples or grey with two, and no ExtraSamples tag to say what the last one is:
        // libtiff ignores it, but it is the alpha channel such files were written with (Pillow and
        // libvips read it so). A tag that says "unspecified" is left as it is (see TiffLayout).
        var colours = photometric switch
        {
            Photometric.RGB => 3,
            Photometric.MINISBLACK or Photometric.MINISWHITE => 1,
            _ => 0,
        };
        if (colours > 0 && samples == colours + 1 && tiff.GetField(TiffTag.EXTRASAMPLES) is null)
        {
            tiff.SetField(TiffTag.EXTRASAMPLES, 1, new short[] { (short)ExtraSample.UNASSALPHA });
        }

        return tiff;
    }

    private static ImageHeader ReadHeader(Tiff tiff, int pages)
    {
        var width = tiff.GetField(TiffTag.IMAGEWIDTH)?[0].ToInt() ?? 0;
        var height = tiff.GetField(TiffTag.IMAGELENGTH)?[0].ToInt() ?? 0;
        var compression = (Compression)(tiff.GetField(TiffTag.COMPRESSION)?[0].ToInt() ?? (int)Compression.NONE);
        if (!tiff.IsCodecConfigured(compression))
        {
            throw TiffVariant.UnsupportedCompression((int)compression);
        }

        // libtiff's RGBA interface (used to decode) says up front which variants it cannot convert,
        // such as 16-bit CMYK or floating-point samples; without this check it may fill the picture
        // with nothing and still report success.
        if (!tiff.RGBAImageOK(out var why) || IsCmykOtherThanEightBit(tiff))
        {
            throw TiffVariant.Unconvertible(tiff, why);
        }

        var orientation = tiff.GetField(TiffTag.ORIENTATION)?[0].ToInt() ?? 1;
        var origin = orientation is >= 1 and <= 8 ? (SKEncodedOrigin)orientation : SKEncodedOrigin.TopLeft;
        return new ImageHeader(ImageFormat.Tiff, width, height, pages, origin);
    }

    /// <summary>
    /// libtiff converts CMYK only at 8 bits per sample; LibTiff.NET's check lets 16-bit CMYK through
    /// and then returns an empty (transparent) picture.
    /// </summary>
    private static bool IsCmykOtherThanEightBit(Tiff tiff)
    {
        var photometric = (Photometric)(tiff.GetField(TiffTag.PHOTOMETRIC)?[0].ToInt() ?? -1);
        var bits = tiff.GetFieldDefaulted(TiffTag.BITSPERSAMPLE)?[0].ToInt() ?? 1;
        return photometric == Photometric.SEPARATED && bits != 8;
    }

    /// <summary>
    /// The colour space of an RGB page's embedded ICC profile (tag 34675), which libtiff does not apply.
    /// Profiles of other colour models (CMYK, grey, Lab) have no Skia colour space and are ignored:
    /// libtiff's own conversion of those is used as it is.
    /// </summary>
    private static SKColorSpace? EmbeddedColourSpace(Tiff tiff)
    {
        var photometric = (Photometric)(tiff.GetField(TiffTag.PHOTOMETRIC)?[0].ToInt() ?? -1);
        if (photometric is not (Photometric.RGB or Photometric.YCBCR or Photometric.PALETTE)
            || tiff.GetField(TiffTag.ICCPROFILE) is not [_, var profile, ..]
            || profile.GetBytes() is not { Length: > 0 } bytes)
        {
            return null;
        }

        return SKColorSpace.CreateIcc(bytes);
    }

    /// <summary>Lanes for block reading: one per core, at most <see cref="MaxLanes"/>, as many as <see cref="LaneBudgetBytes"/> allows.</summary>
    private int LaneCount()
    {
        if (_layout.ReadsRows || !_layout.Parallel)
        {
            return 1;
        }

        var blockRows = (_layout.Height + _layout.BlockHeight - 1) / _layout.BlockHeight;
        var affordable = (int)Math.Clamp(LaneBudgetBytes / Math.Max(1, _layout.LaneBytes), 1, MaxLanes);
        return Math.Min(Math.Min(Environment.ProcessorCount, affordable), blockRows);
    }

    /// <summary>LibTiff.NET's buffers are managed arrays, collected in batches: garbage not yet collected, measured at up to ~10 MB.</summary>
    private const long ManagedSlackBytes = 16L * 1024 * 1024;

    protected override long DecoderWorkingBytes(ResizePlan plan)
    {
        var readers = _layout.ReadsRows ? _layout.RowReaderBytes : LaneCount() * _layout.LaneBytes;
        return _layout.DirectoryBytes + readers + ManagedSlackBytes + ShrunkBytes(Header.Width, Header.Height, plan);
    }

    public override ScaledBitmap DecodeShrunk(int minWidth, int minHeight, CancellationToken cancellation) =>
        Guard(() => Decode(minWidth, minHeight, cancellation));

    private ScaledBitmap Decode(int minWidth, int minHeight, CancellationToken cancellation)
    {
        var (width, height) = (Header.Width, Header.Height);
        using var sink = new BoxShrinker(width, height, BoxFactor(width, minWidth), BoxFactor(height, minHeight));
        if (_layout.ReadsRows)
        {
            ReadRowByRow(sink, cancellation);
        }
        else
        {
            ReadBlocks(sink, cancellation);
        }

        return sink.Finish();
    }

    /// <summary>Big strips: a chunk of rows at a time, each plane decoded by its own reader so none has to start its strip over.</summary>
    private void ReadRowByRow(BoxShrinker sink, CancellationToken cancellation)
    {
        var planes = new List<Tiff> { _tiff };
        try
        {
            while (planes.Count < _layout.PlanesToRead)
            {
                planes.Add(OpenReader(Input));
            }

            var reader = new RowReader(planes, _layout);
            for (var top = 0; top < _layout.Height; top += _layout.RowChunk)
            {
                cancellation.ThrowIfCancellationRequested();
                var rows = Math.Min(_layout.RowChunk, _layout.Height - top);
                reader.Read(top, rows);
                reader.FeedRows(sink, top, rows);
            }
        }
        finally
        {
            foreach (var extra in planes.Skip(1))
            {
                extra.Dispose();
            }
        }
    }

    /// <summary>Strips or tiles a row of blocks at a time, on up to <see cref="MaxLanes"/> cores.</summary>
    private void ReadBlocks(BoxShrinker sink, CancellationToken cancellation)
    {
        var bandHeight = _layout.BlockHeight;
        var bandCount = (_layout.Height + bandHeight - 1) / bandHeight;
        var readers = new List<BlockReader> { new(_tiff, _layout) };
        try
        {
            var lanes = LaneCount();
            while (readers.Count < lanes)
            {
                readers.Add(new BlockReader(OpenReader(Input), _layout));
            }

            for (var first = 0; first < bandCount; first += readers.Count)
            {
                cancellation.ThrowIfCancellationRequested();
                var count = Math.Min(readers.Count, bandCount - first);
                ReadBands(readers, first, count, cancellation);
                for (var lane = 0; lane < count; lane++)
                {
                    var top = (first + lane) * bandHeight;
                    readers[lane].FeedRows(sink, top, Math.Min(bandHeight, _layout.Height - top));
                }
            }
        }
        finally
        {
            foreach (var extra in readers.Skip(1))
            {
                extra.Tiff.Dispose();
            }
        }
    }

    /// <summary>libtiff says "Sorry, …" for what it cannot do, and other words for damage.</summary>
    private static ImageRejectedException ReadFailure(Tiff tiff)
    {
        var message = QuietErrorHandler.TakeLastError();
        return message is not null && message.Contains("Sorry", StringComparison.OrdinalIgnoreCase)
            ? TiffVariant.Unconvertible(tiff, message)
            : ImageRejectedException.Corrupt("the TIFF pixel data cannot be read");
    }

    /// <summary>
    /// LibTiff.NET is a managed port that can throw ordinary runtime exceptions on malformed files;
    /// those are properties of the input, so they become a corrupt_image rejection here.
    /// </summary>
    private static T Guard<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentException or InvalidOperationException
                                       or NullReferenceException or OverflowException or IOException
                                       or InvalidCastException or DivideByZeroException or ArrayTypeMismatchException
                                       or InvalidDataException or FormatException)
        {
            throw ImageRejectedException.Corrupt("the TIFF structure is invalid");
        }
    }

    protected override void DisposeDecoder()
    {
        ColourSpace?.Dispose();
        _tiff.Dispose();
    }

    /// <summary>
    /// Keeps libtiff from writing to stderr and remembers the last error of this thread. libtiff's
    /// RGBA strip and tile readers report a damaged strip only here (they fill it and return true),
    /// so the decoder checks it after every read: one rule for every format, damaged means corrupt.
    /// </summary>
    private sealed class QuietErrorHandler : TiffErrorHandler
    {
        [ThreadStatic]
        private static string? _lastError;

        public static bool HasError => _lastError is not null;

        public static string? TakeLastError()
        {
            var error = _lastError;
            _lastError = null;
            return error;
        }

        public override void ErrorHandler(Tiff tif, string method, string format, params object[] args)
        {
            try
            {
                _lastError = string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args);
            }
            catch (FormatException)
            {
                _lastError = format;
            }
        }

        public override void WarningHandler(Tiff tif, string method, string format, params object[] args)
        {
        }
    }
}

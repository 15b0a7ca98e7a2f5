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
    /// <summary>Compressions whose strips decode independently and are worth spreading over cores.</summary>
    private static readonly Compression[] ParallelCompressions =
        [Compression.LZW, Compression.ADOBE_DEFLATE, Compression.DEFLATE, Compression.PACKBITS];

    /// <summary>Most readers (lanes) one picture is decoded by.</summary>
    private const int MaxLanes = 4;

    /// <summary>Band memory (4 bytes a pixel) one picture's readers may hold together; one reader always may.</summary>
    private const long LaneBudgetBytes = 64L * 1024 * 1024;

    private readonly Tiff _tiff;

    static TiffSource() => Tiff.SetErrorHandler(new QuietErrorHandler());

    private TiffSource(EncodedInput input, Tiff tiff)
        : base(input) => _tiff = tiff;

    public static TiffSource Open(EncodedInput input)
    {
        var tiff = OpenReader(input);
        try
        {
            var header = Guard(() => ReadHeader(tiff));
            return new TiffSource(input, tiff) { Header = header, ColourSpace = Guard(() => EmbeddedColourSpace(tiff)) };
        }
        catch
        {
            tiff.Dispose();
            throw;
        }
    }

    private static Tiff OpenReader(EncodedInput input) =>
        Guard(() => Tiff.ClientOpen("upload", "r", input.OpenStream(), new TiffStream()))
        ?? throw ImageRejectedException.Corrupt("the TIFF header cannot be read");

    private static ImageHeader ReadHeader(Tiff tiff)
    {
        var width = tiff.GetField(TiffTag.IMAGEWIDTH)?[0].ToInt() ?? 0;
        var height = tiff.GetField(TiffTag.IMAGELENGTH)?[0].ToInt() ?? 0;
        var compression = (Compression)(tiff.GetField(TiffTag.COMPRESSION)?[0].ToInt() ?? (int)Compression.NONE);
        if (!tiff.IsCodecConfigured(compression))
        {
            throw new ImageRejectedException(Rejection.UnsupportedFormat, $"TIFF compression {compression} is not supported.");
        }

        // libtiff's RGBA interface (used to decode) says up front which variants it cannot convert,
        // such as 16-bit CMYK or floating-point samples; without this check it may fill the picture
        // with nothing and still report success.
        if (!tiff.RGBAImageOK(out var why) || UnconvertibleSeparated(tiff, out why))
        {
            throw new ImageRejectedException(Rejection.UnsupportedFormat, $"This TIFF variant is not supported ({why.TrimEnd('.')}).");
        }

        var orientation = tiff.GetField(TiffTag.ORIENTATION)?[0].ToInt() ?? 1;
        var origin = orientation is >= 1 and <= 8 ? (SKEncodedOrigin)orientation : SKEncodedOrigin.TopLeft;
        return new ImageHeader(ImageFormat.Tiff, width, height, tiff.NumberOfDirectories(), origin);
    }

    /// <summary>
    /// libtiff converts CMYK only at 8 bits per sample; LibTiff.NET's check lets 16-bit CMYK through
    /// and then returns an empty (transparent) picture.
    /// </summary>
    private static bool UnconvertibleSeparated(Tiff tiff, out string why)
    {
        var photometric = (Photometric)(tiff.GetField(TiffTag.PHOTOMETRIC)?[0].ToInt() ?? -1);
        var bits = tiff.GetFieldDefaulted(TiffTag.BITSPERSAMPLE)?[0].ToInt() ?? 1;
        why = $"CMYK with {bits} bits per sample";
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

    /// <summary>One lane per core, at most <see cref="MaxLanes"/>, and only as many as <see cref="LaneBudgetBytes"/> of band buffers allow.</summary>
    private static int LaneCount(int width, int bandHeight, int tileWidth, int bandCount)
    {
        var bytesPerLane = 4L * bandHeight * (width + tileWidth);
        var affordable = (int)Math.Clamp(LaneBudgetBytes / Math.Max(1, bytesPerLane), 1, MaxLanes);
        return Math.Min(Math.Min(Environment.ProcessorCount, affordable), bandCount);
    }

    public override ScaledBitmap DecodeShrunk(int minWidth, int minHeight, CancellationToken cancellation) =>
        Guard(() => Decode(minWidth, minHeight, cancellation));

    private ScaledBitmap Decode(int minWidth, int minHeight, CancellationToken cancellation)
    {
        var (width, height) = (Header.Width, Header.Height);
        var tiled = _tiff.IsTiled();
        var bandHeight = tiled
            ? _tiff.GetField(TiffTag.TILELENGTH)?[0].ToInt() ?? 0
            : _tiff.GetField(TiffTag.ROWSPERSTRIP)?[0].ToInt() ?? height;
        var tileWidth = tiled ? _tiff.GetField(TiffTag.TILEWIDTH)?[0].ToInt() ?? 0 : width;
        bandHeight = Math.Clamp(bandHeight, 1, height);
        if (tileWidth <= 0 || (long)tileWidth * bandHeight > int.MaxValue / 4)
        {
            throw ImageRejectedException.Corrupt("the TIFF strip or tile size is invalid");
        }

        var bandCount = (height + bandHeight - 1) / bandHeight;
        var readers = new List<BandReader> { new(_tiff, width, bandHeight, tiled ? tileWidth : 0) };
        try
        {
            var compression = (Compression)(_tiff.GetField(TiffTag.COMPRESSION)?[0].ToInt() ?? (int)Compression.NONE);
            var lanes = ParallelCompressions.Contains(compression) ? LaneCount(width, bandHeight, tiled ? tileWidth : 0, bandCount) : 1;
            while (readers.Count < lanes)
            {
                readers.Add(new BandReader(OpenReader(Input), width, bandHeight, tiled ? tileWidth : 0));
            }

            using var sink = new BoxShrinker(width, height, BoxFactor(width, minWidth), BoxFactor(height, minHeight));
            for (var first = 0; first < bandCount; first += readers.Count)
            {
                cancellation.ThrowIfCancellationRequested();
                var count = Math.Min(readers.Count, bandCount - first);
                ReadBands(readers, first, count, bandHeight);
                for (var lane = 0; lane < count; lane++)
                {
                    readers[lane].FeedRows(sink, (first + lane) * bandHeight, Math.Min(bandHeight, height - (first + lane) * bandHeight));
                }
            }

            return sink.Finish();
        }
        finally
        {
            foreach (var extra in readers.Skip(1))
            {
                extra.Tiff.Dispose();
            }
        }
    }

    private static ImageRejectedException ReadFailure()
    {
        var message = QuietErrorHandler.TakeLastError();
        return message is not null && message.Contains("Sorry", StringComparison.OrdinalIgnoreCase)
            ? new ImageRejectedException(Rejection.UnsupportedFormat, "This TIFF variant is not supported.")
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

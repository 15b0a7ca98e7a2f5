using BitMiracle.LibTiff.Classic;
using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>
/// TIFF through LibTiff.NET (Skia has no TIFF decoder): first page only, read one strip or tile row
/// at a time through libtiff's RGBA interface, which handles every compression, bit depth,
/// photometric and planar layout it knows.
/// </summary>
internal sealed class TiffSource : SourceImage
{
    private readonly Tiff _tiff;

    static TiffSource() => Tiff.SetErrorHandler(new QuietErrorHandler());

    private TiffSource(Tiff tiff) => _tiff = tiff;

    public static TiffSource Open(Stream input)
    {
        var tiff = Guard(() => Tiff.ClientOpen("upload", "r", input, new TiffStream()))
            ?? throw ImageRejectedException.Corrupt("the TIFF header cannot be read");
        try
        {
            var header = Guard(() => ReadHeader(tiff));
            return new TiffSource(tiff) { Header = header, ColourSpace = Guard(() => EmbeddedColourSpace(tiff)) };
        }
        catch
        {
            tiff.Dispose();
            throw;
        }
    }

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

    public override ScaledBitmap DecodeShrunk(int minWidth, int minHeight, CancellationToken cancellation) =>
        Guard(() => Decode(minWidth, minHeight, cancellation));

    private ScaledBitmap Decode(int minWidth, int minHeight, CancellationToken cancellation)
    {
        var (width, height) = (Header.Width, Header.Height);

        // Deliver the stored pixels; orientation is applied later, like for every other format.
        _tiff.SetField(TiffTag.ORIENTATION, Orientation.TOPLEFT);

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

        using var sink = new BoxShrinker(width, height, BoxFactor(width, minWidth), BoxFactor(height, minHeight));
        QuietErrorHandler.TakeLastError();
        var band = new int[(long)width * bandHeight];
        var piece = tiled ? new int[tileWidth * bandHeight] : band;
        for (var top = 0; top < height; top += bandHeight)
        {
            cancellation.ThrowIfCancellationRequested();
            var rows = Math.Min(bandHeight, height - top);
            if (tiled)
            {
                ReadTileRow(top, rows, tileWidth, bandHeight, piece, band);
            }
            else if (!_tiff.ReadRGBAStrip(top, band) || QuietErrorHandler.HasError)
            {
                throw ReadFailure();
            }

            // libtiff's RGBA strips and tiles have their origin at the bottom left.
            for (var i = 0; i < rows; i++)
            {
                var source = System.Runtime.InteropServices.MemoryMarshal.AsBytes(band.AsSpan((rows - 1 - i) * width, width));
                sink.AddRow(top + i, source);
            }
        }

        return sink.Finish();
    }

    private void ReadTileRow(int top, int rows, int tileWidth, int tileHeight, int[] tile, int[] band)
    {
        var width = Header.Width;
        for (var left = 0; left < width; left += tileWidth)
        {
            if (!_tiff.ReadRGBATile(left, top, tile) || QuietErrorHandler.HasError)
            {
                throw ReadFailure();
            }

            // A tile comes back bottom-up in a full tileWidth × tileHeight raster; the band is bottom-up too.
            var columns = Math.Min(tileWidth, width - left);
            for (var i = 0; i < rows; i++)
            {
                var tileRow = tileHeight - rows + i;
                tile.AsSpan(tileRow * tileWidth, columns).CopyTo(band.AsSpan(i * width + left, columns));
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

    public override void Dispose()
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

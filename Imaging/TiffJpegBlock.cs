using System.Runtime.InteropServices;
using BitMiracle.LibTiff.Classic;
using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>
/// Decodes the JPEG strips and tiles of an 8-bit RGB or YCbCr TIFF with Skia's libjpeg-turbo rather
/// than LibJpeg.Net: each block is a JPEG stream (abbreviated when the page has JPEGTables, whose
/// tables are put in front of it), decoded to RGB by libjpeg itself. LibJpeg.Net garbles progressive
/// blocks with restart markers, has no arithmetic coding and throws on blocks libjpeg reads.
/// </summary>
internal sealed class TiffJpegBlock
{
    /// <summary>An APP14 "Adobe" marker without its transform byte: 0 means RGB, 1 YCbCr (libjpeg's reading).</summary>
    private static ReadOnlySpan<byte> AdobeMarker => [0xFF, 0xEE, 0x00, 0x0E, (byte)'A', (byte)'d', (byte)'o', (byte)'b', (byte)'e', 0x00, 0x64, 0x00, 0x00, 0x00, 0x00];

    private readonly byte[] _prefix;
    private readonly byte[] _raw;
    private readonly int _blockWidth;
    private readonly int _blockHeight;
    private int[] _pixels = [];

    public TiffJpegBlock(Tiff tiff, TiffLayout layout)
    {
        (_blockWidth, _blockHeight) = (layout.BlockWidth, layout.BlockHeight);
        ReadOnlySpan<byte> tables = tiff.GetField(TiffTag.JPEGTABLES) is [_, var field, ..] && field.GetBytes() is { Length: > 4 } bytes
            ? bytes.AsSpan(2, bytes.Length - 4) // without the tables' start and end markers
            : [];
        var photometric = (Photometric)(tiff.GetField(TiffTag.PHOTOMETRIC)?[0].ToInt() ?? -1);
        _prefix = [0xFF, 0xD8, .. AdobeMarker, photometric == Photometric.YCBCR ? (byte)1 : (byte)0, .. tables];
        _raw = new byte[_prefix.Length + layout.MaxStoredBlockBytes];
    }

    /// <summary>Whether this page's blocks are read here: JPEG-compressed, 8-bit, 3 interleaved samples of RGB or YCbCr.</summary>
    public static bool Handles(Tiff tiff, int planes)
    {
        var compression = (Compression)(tiff.GetFieldDefaulted(TiffTag.COMPRESSION)?[0].ToInt() ?? 1);
        var photometric = (Photometric)(tiff.GetField(TiffTag.PHOTOMETRIC)?[0].ToInt() ?? -1);
        var bits = tiff.GetFieldDefaulted(TiffTag.BITSPERSAMPLE)?[0].ToInt() ?? 1;
        var samples = tiff.GetFieldDefaulted(TiffTag.SAMPLESPERPIXEL)?[0].ToInt() ?? 1;
        return compression == Compression.JPEG && photometric is Photometric.YCBCR or Photometric.RGB
               && bits == 8 && samples == 3 && planes == 1;
    }

    /// <summary>
    /// Decodes block <paramref name="block"/> (a tile or strip number) and copies its top-left
    /// <paramref name="columns"/> × <paramref name="rows"/> pixels into <paramref name="band"/> (RGBA,
    /// <paramref name="bandWidth"/> pixels a row) from column <paramref name="left"/>.
    /// </summary>
    public void DecodeInto(Tiff tiff, int block, bool tiled, int[] band, int bandWidth, int left, int columns, int rows)
    {
        // The block is read so that what follows its start marker lands right after the prefix,
        // then the prefix is put in front of it, over that marker.
        var start = _prefix.Length - 2;
        var read = tiled
            ? tiff.ReadRawTile(block, _raw, start, _raw.Length - start)
            : tiff.ReadRawStrip(block, _raw, start, _raw.Length - start);
        if (read < 4 || _raw[start] != 0xFF || _raw[start + 1] != 0xD8)
        {
            throw ImageRejectedException.Corrupt($"TIFF {(tiled ? "tile" : "strip")} {block} holds no JPEG data");
        }

        _prefix.CopyTo(_raw, 0);
        var stream = _raw.AsSpan(0, start + read);
        HideColourMarkers(stream, 2 + AdobeMarker.Length + 1);

        var (width, height) = Decode(stream, block, tiled);
        if (width < columns || height < rows)
        {
            throw ImageRejectedException.Corrupt($"the JPEG in TIFF {(tiled ? "tile" : "strip")} {block} is {width}×{height}, smaller than the {columns}×{rows} pixels it must fill");
        }

        for (var y = 0; y < rows; y++)
        {
            _pixels.AsSpan(y * width, columns).CopyTo(band.AsSpan(y * bandWidth + left, columns));
        }
    }

    /// <summary>
    /// The TIFF's Photometric tag, not the stream's own markers, says whether the samples are RGB or
    /// YCbCr (libtiff tells libjpeg so). The prefix's Adobe marker says it to libjpeg, which would
    /// let a JFIF marker (YCbCr) or another Adobe marker in the tables or the block overrule it: those
    /// are turned into APP15 markers, which libjpeg skips. Only the markers before the scan are read.
    /// </summary>
    private static void HideColourMarkers(Span<byte> jpeg, int from)
    {
        const byte Jfif = 0xE0, Adobe = 0xEE, App15 = 0xEF, StartOfScan = 0xDA;
        var at = from;
        while (at + 4 <= jpeg.Length && jpeg[at] == 0xFF)
        {
            var marker = jpeg[at + 1];
            if (marker == 0xFF)
            {
                at++; // fill byte
                continue;
            }

            if (marker == StartOfScan)
            {
                return;
            }

            if (marker is Jfif or Adobe)
            {
                jpeg[at + 1] = App15;
            }

            at += 2 + (jpeg[at + 2] << 8 | jpeg[at + 3]);
        }
    }

    private unsafe (int Width, int Height) Decode(ReadOnlySpan<byte> jpeg, int block, bool tiled)
    {
        fixed (byte* bytes = jpeg)
        {
            using var data = SKData.Create((IntPtr)bytes, jpeg.Length);
            using var codec = SKCodec.Create(data);
            if (codec is null)
            {
                throw ImageRejectedException.Corrupt($"the JPEG in TIFF {(tiled ? "tile" : "strip")} {block} cannot be read");
            }

            var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
            if (info.Width > _blockWidth || info.Height > _blockHeight)
            {
                throw ImageRejectedException.Corrupt($"the JPEG in TIFF {(tiled ? "tile" : "strip")} {block} is {info.Width}×{info.Height}, larger than the block's {_blockWidth}×{_blockHeight}");
            }

            if (_pixels.Length < info.Width * info.Height)
            {
                _pixels = new int[info.Width * info.Height];
            }

            fixed (int* pixels = _pixels)
            {
                var result = codec.GetPixels(info, (IntPtr)pixels);
                if (result != SKCodecResult.Success)
                {
                    throw ImageRejectedException.Corrupt($"the JPEG in TIFF {(tiled ? "tile" : "strip")} {block} cannot be decoded ({result})");
                }
            }

            return (info.Width, info.Height);
        }
    }
}

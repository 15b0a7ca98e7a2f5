using BitMiracle.LibTiff.Classic;

namespace ThumbnailApi.Imaging;

/// <summary>
/// Plain-word refusals for the TIFF variants LibTiff.NET does not read: the compression by the name
/// libtiff gives it, the samples by what they are (32-bit floating point, not "Sorry, can not handle
/// images with 32-bit samples"), and always what the user can do instead.
/// </summary>
internal static class TiffVariant
{
    private const string SaveAs = "save it as an 8- or 16-bit TIFF (uncompressed, LZW or Deflate), or as PNG or JPEG";

    /// <summary>libtiff's names for compression schemes (tif_codec.c), plus the JPEG 2000 and JPEG XL codes other writers use.</summary>
    private static readonly Dictionary<int, string> CompressionNames = new()
    {
        [1] = "no compression", [2] = "CCITT RLE", [3] = "CCITT Group 3", [4] = "CCITT Group 4", [5] = "LZW",
        [6] = "old-style JPEG", [7] = "JPEG", [8] = "Deflate", [32766] = "NeXT 2-bit RLE", [32771] = "CCITT RLE/W",
        [32773] = "PackBits", [32809] = "ThunderScan", [32895] = "IT8 CT padding", [32896] = "IT8 line art",
        [32897] = "IT8 monochrome", [32898] = "IT8 binary line art", [32908] = "Pixar film", [32909] = "PixarLog",
        [32946] = "Deflate", [32947] = "Kodak DCS", [33003] = "JPEG 2000 (Aperio)", [33005] = "JPEG 2000 (Aperio)",
        [34661] = "JBIG", [34676] = "SGILog", [34677] = "SGILog24", [34712] = "JPEG 2000", [34887] = "LERC",
        [34892] = "lossy JPEG (DNG)", [34925] = "LZMA", [50000] = "ZSTD (Zstandard)", [50001] = "WebP",
        [50002] = "JPEG XL", [52546] = "JPEG XL (DNG)",
    };

    public static string CompressionName(int code) =>
        CompressionNames.TryGetValue(code, out var name) ? name : $"an unknown compression scheme (number {code})";

    public static ImageRejectedException UnsupportedCompression(int code) =>
        new(Rejection.UnsupportedFormat, $"This TIFF is compressed with {CompressionName(code)}, which is not supported; {SaveAs}.");

    /// <summary>"32-bit floating-point samples", "12-bit samples", …</summary>
    public static string Samples(long bits, int sampleFormat) => sampleFormat switch
    {
        3 => $"{bits}-bit floating-point samples",
        2 => $"{bits}-bit signed integer samples",
        5 or 6 => $"{bits}-bit complex-number samples",
        _ => $"{bits}-bit samples",
    };

    public static ImageRejectedException UnsupportedSamples(long bits, int sampleFormat) =>
        new(Rejection.UnsupportedFormat,
            $"TIFF images with {Samples(bits, sampleFormat)} are not supported (only 1, 2, 4, 8 and 16 bits); {SaveAs}.");

    /// <summary>
    /// The refusal for a page libtiff's RGBA conversion cannot make colours of, said from the page's
    /// tags rather than in libtiff's words (<paramref name="libtiffReason"/> is used only when no tag explains it).
    /// </summary>
    public static ImageRejectedException Unconvertible(Tiff tiff, string? libtiffReason)
    {
        var bits = tiff.GetFieldDefaulted(TiffTag.BITSPERSAMPLE)?[0].ToInt() ?? 1;
        var format = tiff.GetFieldDefaulted(TiffTag.SAMPLEFORMAT)?[0].ToInt() ?? 1;
        var photometric = tiff.GetField(TiffTag.PHOTOMETRIC)?[0].ToInt() ?? -1;
        var what = (bits, format, photometric) switch
        {
            (_, 3 or 2 or 5 or 6, _) or (not (1 or 2 or 4 or 8 or 16), _, _) => Samples(bits, format),
            (_, _, (int)Photometric.SEPARATED) when bits != 8 => $"CMYK with {bits} bits per sample",
            (_, _, (int)Photometric.SEPARATED) => "inks other than plain CMYK",
            (_, _, -1) => "no colour model (its PhotometricInterpretation tag is missing)",
            (_, _, (int)Photometric.LOGL or (int)Photometric.LOGLUV) => "SGI LogLuv high-dynamic-range colours",
            (_, _, (int)Photometric.CIELAB or (int)Photometric.ICCLAB or (int)Photometric.ITULAB) => $"Lab colours with {bits} bits per sample",
            (_, _, 32803) => "raw camera sensor data (a colour filter array)",
            (_, _, 34892) => "raw camera data (linear raw)",
            _ => $"a layout the decoder cannot convert ({libtiffReason?.TrimEnd('.') ?? "no reason given"})",
        };
        return new ImageRejectedException(Rejection.UnsupportedFormat, $"This TIFF has {what}, which is not supported; {SaveAs}.");
    }
}

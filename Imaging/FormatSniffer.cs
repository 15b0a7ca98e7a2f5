namespace ThumbnailApi.Imaging;

/// <summary>Step 1: recognise the format from its magic bytes.</summary>
public static class FormatSniffer
{
    /// <summary>How many leading bytes <see cref="Sniff"/> needs to recognise every format.</summary>
    public const int BytesNeeded = 32;

    /// <summary>The format the leading bytes belong to, or null when they are none of ours.</summary>
    public static ImageFormat? Sniff(ReadOnlySpan<byte> head) => head switch
    {
        [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => ImageFormat.Png,
        [0xFF, 0xD8, 0xFF, ..] => ImageFormat.Jpeg,
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'7' or (byte)'9', (byte)'a', ..] => ImageFormat.Gif,
        [(byte)'B', (byte)'M', _, _, _, _, _, _, _, _, _, _, ..] => ImageFormat.Bmp,
        [(byte)'I', (byte)'I', 0x2A or 0x2B, 0x00, ..] or [(byte)'M', (byte)'M', 0x00, 0x2A or 0x2B, ..] => ImageFormat.Tiff, // classic or BigTIFF
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => ImageFormat.WebP,
        [_, _, _, _, (byte)'f', (byte)'t', (byte)'y', (byte)'p', ..] => HeifBrand(head),
        _ => null,
    };

    /// <summary>
    /// HEIC or AVIF from the ISO-BMFF "ftyp" box: its major brand, or for the generic HEIF brands
    /// (mif1, msf1, miaf) the first telling compatible brand among those in <paramref name="head"/>.
    /// </summary>
    private static ImageFormat? HeifBrand(ReadOnlySpan<byte> head)
    {
        var boxEnd = Math.Min(head.Length, (int)Math.Min(uint.MaxValue >> 1, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(head)));
        for (var at = 8; at + 4 <= boxEnd; at += at == 8 ? 8 : 4) // the major brand, then (after the minor version) the compatible ones
        {
            switch (System.Text.Encoding.ASCII.GetString(head.Slice(at, 4)))
            {
                case "heic" or "heix" or "heim" or "heis" or "hevc" or "hevx" or "hevm" or "hevs":
                    return ImageFormat.Heic;
                case "avif" or "avis":
                    return ImageFormat.Avif;
            }
        }

        return null;
    }

    /// <summary>The name people know the format by, for messages.</summary>
    public static string CommonName(this ImageFormat format) => format switch
    {
        ImageFormat.Png => "PNG",
        ImageFormat.Jpeg => "JPEG",
        ImageFormat.Gif => "GIF",
        ImageFormat.Bmp => "BMP",
        ImageFormat.Tiff => "TIFF",
        ImageFormat.WebP => "WebP",
        ImageFormat.Heic => "HEIC",
        ImageFormat.Avif => "AVIF",
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>The MIME type browsers know the format by.</summary>
    public static string MimeType(this ImageFormat format) => format switch
    {
        ImageFormat.Png => "image/png",
        ImageFormat.Jpeg => "image/jpeg",
        ImageFormat.Gif => "image/gif",
        ImageFormat.Bmp => "image/bmp",
        ImageFormat.Tiff => "image/tiff",
        ImageFormat.WebP => "image/webp",
        ImageFormat.Heic => "image/heic",
        ImageFormat.Avif => "image/avif",
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };
}

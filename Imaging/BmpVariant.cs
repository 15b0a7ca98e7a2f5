using System.Buffers.Binary;

namespace ThumbnailApi.Imaging;

/// <summary>
/// Names the BMP variants Skia does not read, from the header, so a valid file of such a variant is
/// refused as unsupported_format rather than as damaged: 64 bits per pixel (16-bit channels in
/// fixed point, as Windows' imaging components write), an embedded JPEG or PNG (BI_JPEG, BI_PNG,
/// meant for printers), and OS/2's Huffman 1-D and 24-bit run-length compressions.
/// </summary>
internal static class BmpVariant
{
    private const int InfoHeaderAt = 14;
    private const int Os2InfoHeaderSize = 64;

    /// <summary>What the variant is, in a few words with its article ("a 64-bit BMP …"), or null when the header shows none of these.</summary>
    public static string? Unsupported(ReadOnlySpan<byte> bmp)
    {
        if (bmp.Length < InfoHeaderAt + 20)
        {
            return null;
        }

        var headerSize = BinaryPrimitives.ReadInt32LittleEndian(bmp[InfoHeaderAt..]);
        if (headerSize < 40)
        {
            return null; // OS/2 1.x: no compression and at most 24 bits
        }

        var bits = BinaryPrimitives.ReadUInt16LittleEndian(bmp[(InfoHeaderAt + 14)..]);
        var compression = BinaryPrimitives.ReadInt32LittleEndian(bmp[(InfoHeaderAt + 16)..]);
        var os2 = headerSize == Os2InfoHeaderSize;
        return (bits, compression, os2) switch
        {
            (64, _, _) => "a 64-bit BMP (16-bit channels in fixed point)",
            (_, 3, true) => "an OS/2 BMP with Huffman 1-D compression",
            (_, 4, true) => "an OS/2 BMP with 24-bit run-length compression",
            (_, 4, false) => "a BMP that holds a JPEG (meant for printers)",
            (_, 5, false) => "a BMP that holds a PNG (meant for printers)",
            _ => null,
        };
    }
}

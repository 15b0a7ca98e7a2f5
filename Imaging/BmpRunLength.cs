using System.Buffers.Binary;

namespace ThumbnailApi.Imaging;

/// <summary>
/// Checks a run-length encoded BMP (BI_RLE8, BI_RLE4) for runs that go past the end of a row before
/// Skia decodes it. Skia, like browsers and Pillow, cuts such a run at the row's end and goes on in
/// the same row; that is right for a writer that only overstated one run's count (an end-of-line
/// code follows, and the picture is what browsers show), but a writer that let its runs wrap into
/// the next row gets most of its pixels dropped, and an absolute run cut short throws the rest of
/// the data out of step: a garbled picture. Those files are refused as damaged instead.
/// </summary>
internal static class BmpRunLength
{
    private const int Rle8 = 1;
    private const int Rle4 = 2;

    /// <summary>Throws corrupt_image when the RLE data runs past a row's end other than by one run just before an end-of-line or end-of-bitmap code.</summary>
    public static void EnsureRowsKeepToTheirWidth(ReadOnlySpan<byte> bmp)
    {
        if (Header(bmp) is not var (dataAt, width, compression) || dataAt >= bmp.Length)
        {
            return; // not RLE, or a header Skia judges itself
        }

        var data = bmp[dataAt..];
        var x = 0L;
        var overran = false;
        for (var at = 0; at + 1 < data.Length;)
        {
            int count = data[at], value = data[at + 1];
            at += 2;
            if (count == 0 && value is 0 or 1)
            {
                if (value == 1)
                {
                    return; // end of bitmap
                }

                (x, overran) = (0, false); // end of line
                continue;
            }

            if (overran)
            {
                throw Overrun();
            }

            if (count > 0)
            {
                x += count; // an encoded run: one value repeated
                overran = x > width;
            }
            else if (value == 2)
            {
                x += at < data.Length ? data[at] : 0; // delta: right and up; going past the row's end is damage
                at += 2;
                if (x > width)
                {
                    throw Overrun();
                }
            }
            else
            {
                x += value; // an absolute run: value pixels stored as they are, padded to 16 bits
                if (x > width)
                {
                    throw Overrun();
                }

                var bytes = compression == Rle8 ? value : (value + 1) / 2;
                at += bytes + (bytes & 1);
            }
        }
    }

    /// <summary>The pixel data's offset, the width and the compression of an RLE8/RLE4 BMP; null for any other BMP.</summary>
    private static (int DataAt, long Width, int Compression)? Header(ReadOnlySpan<byte> bmp)
    {
        const int InfoHeaderAt = 14;
        if (bmp.Length < InfoHeaderAt + 20)
        {
            return null;
        }

        var headerSize = BinaryPrimitives.ReadInt32LittleEndian(bmp[InfoHeaderAt..]);
        if (headerSize < 40)
        {
            return null; // OS/2 1.x headers have no compression
        }

        var compression = BinaryPrimitives.ReadInt32LittleEndian(bmp[(InfoHeaderAt + 16)..]);
        var bits = BinaryPrimitives.ReadUInt16LittleEndian(bmp[(InfoHeaderAt + 14)..]);
        if (!(compression == Rle8 && bits == 8) && !(compression == Rle4 && bits == 4))
        {
            return null;
        }

        var dataAt = BinaryPrimitives.ReadInt32LittleEndian(bmp[10..]);
        var width = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(bmp[(InfoHeaderAt + 4)..]));
        return dataAt > 0 ? (dataAt, width, compression) : null;
    }

    private static ImageRejectedException Overrun() =>
        ImageRejectedException.Corrupt("the BMP's run-length data runs past the end of a row");
}

using System.Buffers.Binary;

namespace ThumbnailApi.Imaging;

/// <summary>
/// Reads just the width and length of a TIFF's first page from its first directory (classic TIFF or
/// BigTIFF), so that a declared size over the limit is refused as <c>image_too_large</c> before
/// libtiff opens the file (LibTiff.NET gives up with an overflow on strips over 2 GB and would call it
/// damaged). It also refuses a directory entry whose data would lie past the end of the file:
/// LibTiff.NET allocates an entry's array from its declared count before reading it, so a 1 KB file
/// declaring a tag of two billion values would cost gigabytes (found by fuzzing).
/// </summary>
internal static class TiffHeader
{
    private const ushort ImageWidth = 256;
    private const ushort ImageLength = 257;

    public static (long Width, long Height)? ReadSize(Stream input)
    {
        try
        {
            Span<byte> header = stackalloc byte[16];
            input.ReadExactly(header[..8]);
            var little = header[0] == (byte)'I';
            var big = ReadUInt16(header[2..], little) == 43;
            long directory = ReadUInt32(header[4..], little);
            if (big)
            {
                input.ReadExactly(header[8..16]);
                directory = (long)Math.Min(ReadUInt64(header[8..], little), long.MaxValue);
            }

            if (directory > input.Length - 2)
            {
                return null; // libtiff reports the broken offset itself
            }

            input.Position = directory;
            Span<byte> count = stackalloc byte[8];
            input.ReadExactly(count[..(big ? 8 : 2)]);
            var entries = Math.Min(big ? ReadUInt64(count, little) : ReadUInt16(count, little), ushort.MaxValue);

            long width = 0, height = 0;
            Span<byte> entry = stackalloc byte[big ? 20 : 12];
            var valueAt = big ? 12 : 8;
            for (var i = 0UL; i < entries; i++)
            {
                input.ReadExactly(entry);
                var tag = ReadUInt16(entry, little);
                var type = ReadUInt16(entry[2..], little);
                EnsureDataInFile(entry, big, little, input.Length);
                if (tag is not (ImageWidth or ImageLength))
                {
                    continue;
                }

                long value = type switch
                {
                    3 => ReadUInt16(entry[valueAt..], little), // SHORT
                    4 => ReadUInt32(entry[valueAt..], little), // LONG
                    16 when big => (long)Math.Min(ReadUInt64(entry[valueAt..], little), long.MaxValue), // LONG8
                    _ => 0,
                };
                if (tag == ImageWidth)
                {
                    width = value;
                }
                else
                {
                    height = value;
                }
            }

            return width > 0 && height > 0 ? (width, height) : null;
        }
        catch (EndOfStreamException)
        {
            return null;
        }
        catch (IOException)
        {
            return null; // a directory offset past what a stream can seek to
        }
        finally
        {
            input.Position = 0;
        }
    }

    /// <summary>Refuses an entry whose values, stored outside it, would run past the end of the file.</summary>
    private static void EnsureDataInFile(ReadOnlySpan<byte> entry, bool big, bool little, long fileLength)
    {
        var size = TypeSize(ReadUInt16(entry[2..], little));
        var count = big ? ReadUInt64(entry[4..], little) : ReadUInt32(entry[4..], little);
        var bytes = count > (ulong)(long.MaxValue / 8) ? ulong.MaxValue : count * (ulong)size;
        var inline = big ? 8UL : 4UL;
        var offset = big ? ReadUInt64(entry[12..], little) : ReadUInt32(entry[8..], little);
        if (bytes > inline && (offset > (ulong)fileLength || bytes > (ulong)fileLength - offset))
        {
            throw ImageRejectedException.Corrupt($"TIFF tag {ReadUInt16(entry, little)} claims {bytes:N0} bytes past the end of the file");
        }
    }

    /// <summary>Bytes per value of a TIFF field type; 0 for types libtiff does not know (it skips those).</summary>
    private static int TypeSize(ushort type) => type switch
    {
        1 or 2 or 6 or 7 => 1, // BYTE, ASCII, SBYTE, UNDEFINED
        3 or 8 => 2, // SHORT, SSHORT
        4 or 9 or 11 or 13 => 4, // LONG, SLONG, FLOAT, IFD
        5 or 10 or 12 or 16 or 17 or 18 => 8, // RATIONAL, SRATIONAL, DOUBLE, LONG8, SLONG8, IFD8
        _ => 0,
    };

    private static ushort ReadUInt16(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(bytes) : BinaryPrimitives.ReadUInt16BigEndian(bytes);

    private static uint ReadUInt32(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(bytes) : BinaryPrimitives.ReadUInt32BigEndian(bytes);

    private static ulong ReadUInt64(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt64LittleEndian(bytes) : BinaryPrimitives.ReadUInt64BigEndian(bytes);
}

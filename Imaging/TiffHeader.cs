using System.Buffers.Binary;

namespace ThumbnailApi.Imaging;

/// <summary>
/// Reads just the width and length of a TIFF's first page from its first directory (classic TIFF or
/// BigTIFF), so that a declared size over the limit is refused as <c>image_too_large</c> before
/// libtiff opens the file (LibTiff.NET gives up with an overflow on strips over 2 GB and would call it
/// damaged).
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

            input.Position = directory;
            Span<byte> count = stackalloc byte[8];
            input.ReadExactly(count[..(big ? 8 : 2)]);
            var entries = Math.Min(big ? ReadUInt64(count, little) : ReadUInt16(count, little), 1024UL);

            long width = 0, height = 0;
            Span<byte> entry = stackalloc byte[big ? 20 : 12];
            var valueAt = big ? 12 : 8;
            for (var i = 0UL; i < entries && (width == 0 || height == 0); i++)
            {
                input.ReadExactly(entry);
                var tag = ReadUInt16(entry, little);
                if (tag is not (ImageWidth or ImageLength))
                {
                    continue;
                }

                var type = ReadUInt16(entry[2..], little);
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

    private static ushort ReadUInt16(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(bytes) : BinaryPrimitives.ReadUInt16BigEndian(bytes);

    private static uint ReadUInt32(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(bytes) : BinaryPrimitives.ReadUInt32BigEndian(bytes);

    private static ulong ReadUInt64(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt64LittleEndian(bytes) : BinaryPrimitives.ReadUInt64BigEndian(bytes);
}

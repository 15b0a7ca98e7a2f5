using System.Buffers.Binary;

namespace ThumbnailApi.Imaging;

/// <summary>
/// Reads just the width and length of a TIFF's first page from its first directory, so that a
/// declared size over the limit is refused as <c>image_too_large</c> before libtiff opens the file
/// (LibTiff.NET gives up with an overflow on strips over 2 GB and would call it damaged).
/// </summary>
internal static class TiffHeader
{
    private const ushort ImageWidth = 256;
    private const ushort ImageLength = 257;

    public static (long Width, long Height)? ReadSize(Stream input)
    {
        try
        {
            Span<byte> header = stackalloc byte[8];
            input.ReadExactly(header);
            var little = header[0] == (byte)'I';
            var directory = ReadUInt32(header[4..], little);

            input.Position = directory;
            Span<byte> count = stackalloc byte[2];
            input.ReadExactly(count);
            var entries = Math.Min(ReadUInt16(count, little), (ushort)1024);

            long width = 0, height = 0;
            Span<byte> entry = stackalloc byte[12];
            for (var i = 0; i < entries && (width == 0 || height == 0); i++)
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
                    3 => ReadUInt16(entry[8..], little), // SHORT
                    4 => ReadUInt32(entry[8..], little), // LONG
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
        finally
        {
            input.Position = 0;
        }
    }

    private static ushort ReadUInt16(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(bytes) : BinaryPrimitives.ReadUInt16BigEndian(bytes);

    private static uint ReadUInt32(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(bytes) : BinaryPrimitives.ReadUInt32BigEndian(bytes);
}

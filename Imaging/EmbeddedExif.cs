using System.Buffers.Binary;
using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>
/// The EXIF orientation of PNG (eXIf chunk) and WebP (EXIF chunk) files, which Skia does not report:
/// its PNG codec ignores eXIf, and its WebP codec misses an EXIF chunk that starts with the JPEG-style
/// "Exif\0\0" prefix, as some writers store it. Browsers and libvips honour both.
/// </summary>
internal static class EmbeddedExif
{
    private const int MaxChunks = 10_000;
    private const int MaxExifBytes = 1 << 20;

    /// <summary>The orientation tag, when the file carries one; rewinds the stream.</summary>
    public static SKEncodedOrigin? Origin(Stream input, ImageFormat format)
    {
        try
        {
            var exif = format switch
            {
                ImageFormat.Png => FindChunk(input, start: 8, bigEndian: true, "eXIf"u8, padded: false, crcBytes: 4),
                ImageFormat.WebP => FindChunk(input, start: 12, bigEndian: false, "EXIF"u8, padded: true, crcBytes: 0),
                _ => null,
            };
            return exif is null ? null : OrientationOf(exif);
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

    /// <summary>Walks PNG chunks (length, type, data, CRC) or RIFF chunks (type, length, data, pad).</summary>
    private static byte[]? FindChunk(Stream input, long start, bool bigEndian, ReadOnlySpan<byte> wanted, bool padded, int crcBytes)
    {
        input.Position = start;
        Span<byte> head = stackalloc byte[8];
        for (var i = 0; i < MaxChunks && input.Position + 8 <= input.Length; i++)
        {
            input.ReadExactly(head);
            var type = bigEndian ? head[4..] : head[..4];
            var length = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(head) : BinaryPrimitives.ReadUInt32LittleEndian(head[4..]);
            if (type.SequenceEqual(wanted))
            {
                if (length > MaxExifBytes)
                {
                    return null;
                }

                var data = new byte[length];
                input.ReadExactly(data);
                return data;
            }

            if (type.SequenceEqual("IEND"u8))
            {
                return null;
            }

            var next = input.Position + length + crcBytes + (padded ? length & 1 : 0);
            if (next > input.Length)
            {
                return null; // a chunk that claims more than the file holds (seeking there throws on a MemoryStream)
            }

            input.Position = next;
        }

        return null;
    }

    /// <summary>Tag 0x0112 of IFD0 in a TIFF-structured EXIF block (with or without the "Exif\0\0" prefix).</summary>
    private static SKEncodedOrigin? OrientationOf(ReadOnlySpan<byte> exif)
    {
        if (exif.StartsWith("Exif\0\0"u8))
        {
            exif = exif[6..];
        }

        if (exif.Length < 8 || !(exif.StartsWith("II"u8) || exif.StartsWith("MM"u8)))
        {
            return null;
        }

        var little = exif[0] == (byte)'I';
        var ifd = (int)Math.Min(Read32(exif[4..], little), int.MaxValue);
        if (ifd > exif.Length - 2)
        {
            return null;
        }

        var entries = Read16(exif[ifd..], little);
        for (var i = 0; i < entries; i++)
        {
            var at = ifd + 2 + i * 12;
            if (at + 12 > exif.Length)
            {
                return null;
            }

            if (Read16(exif[at..], little) == 0x0112 && Read16(exif[(at + 2)..], little) == 3)
            {
                var value = Read16(exif[(at + 8)..], little);
                return value is >= 1 and <= 8 ? (SKEncodedOrigin)value : null;
            }
        }

        return null;
    }

    private static ushort Read16(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);

    private static uint Read32(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);
}

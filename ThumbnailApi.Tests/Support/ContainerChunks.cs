using System.Buffers.Binary;
using System.Text;

namespace ThumbnailApi.Tests.Support;

/// <summary>The chunk names of a PNG or WebP file and the markers of a JPEG, to see what an encoder wrote.</summary>
public static class ContainerChunks
{
    public static IReadOnlyList<string> Png(byte[] bytes)
    {
        var names = new List<string>();
        for (var at = 8; at + 8 <= bytes.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at));
            names.Add(Encoding.ASCII.GetString(bytes, at + 4, 4));
            at += 12 + length;
        }

        return names;
    }

    /// <summary>Markers up to the first scan, as hex ("E0" for APP0, "E1" for APP1 = EXIF/XMP, "E2" = ICC, "FE" = comment).</summary>
    public static IReadOnlyList<string> JpegMarkers(byte[] bytes)
    {
        var names = new List<string>();
        for (var at = 2; at + 4 <= bytes.Length && bytes[at] == 0xFF;)
        {
            var marker = bytes[at + 1];
            names.Add(marker.ToString("X2"));
            if (marker == 0xDA)
            {
                break;
            }

            at += 2 + BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(at + 2));
        }

        return names;
    }

    public static IReadOnlyList<string> WebP(byte[] bytes)
    {
        var names = new List<string>();
        for (var at = 12; at + 8 <= bytes.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 4));
            names.Add(Encoding.ASCII.GetString(bytes, at, 4));
            at += 8 + length + (length & 1);
        }

        return names;
    }
}

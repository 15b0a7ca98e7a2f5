using System.Buffers.Binary;

namespace ThumbnailApi.Robustness;

/// <summary>
/// The resource attacks too big to commit, made at run time with the layout make_hostile_images.py
/// uses for their small siblings: a 16x16 grey first page (classic TIFF or BigTIFF), then a chain of
/// directories. Deterministic.
/// </summary>
public static class CraftedFiles
{
    /// <summary>
    /// A classic TIFF whose pages after the first are empty 6-byte directories (entry count 0, next
    /// offset), as many as fit in <paramref name="maxBytes"/>: the 8.7 million pages in 50 MiB.
    /// </summary>
    public static byte[] EmptyPageChain(long maxBytes)
    {
        var first = FirstPage(big: false, out var nextField);
        var pages = (int)((maxBytes - first.Length) / 6);
        var file = new byte[first.Length + 6L * pages];
        first.CopyTo(file, 0);
        var at = first.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(nextField), (uint)at);
        for (var i = 0; i < pages; i++, at += 6)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(at + 2), i < pages - 1 ? (uint)(at + 6) : 0);
        }

        return file;
    }

    /// <summary>The same in BigTIFF: empty directories of 16 bytes (8 of entry count, 8 of next offset).</summary>
    public static byte[] BigTiffEmptyPageChain(long maxBytes)
    {
        var first = FirstPage(big: true, out var nextField);
        var pages = (int)((maxBytes - first.Length) / 16);
        var file = new byte[first.Length + 16L * pages];
        first.CopyTo(file, 0);
        var at = (long)first.Length;
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(nextField), (ulong)at);
        for (var i = 0; i < pages; i++, at += 16)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan((int)at + 8), i < pages - 1 ? (ulong)(at + 16) : 0);
        }

        return file;
    }

    /// <summary>
    /// A classic TIFF of <paramref name="pages"/> real pages: after the 16x16 first page, each is a
    /// 1x1 picture in a 54-byte directory (width, length, strip offset, strip byte count), all sharing
    /// the first page's pixels. 65 536 pages wrap LibTiff.NET's 16-bit count to 0, 70 000 to 4 464.
    /// </summary>
    public static byte[] RealPageChain(int pages)
    {
        var first = FirstPage(big: false, out var nextField);
        var file = new byte[first.Length + 54L * (pages - 1)];
        first.CopyTo(file, 0);
        var at = first.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(nextField), (uint)at);
        for (var i = 0; i < pages - 1; i++, at += 54)
        {
            var page = file.AsSpan(at, 54);
            BinaryPrimitives.WriteUInt16LittleEndian(page, 4);
            Entry(page[2..], 256, 3, 1, 1);
            Entry(page[14..], 257, 3, 1, 1);
            Entry(page[26..], 273, 4, 1, 8);
            Entry(page[38..], 279, 4, 1, 1);
            BinaryPrimitives.WriteUInt32LittleEndian(page[50..], i < pages - 2 ? (uint)(at + 54) : 0);
        }

        return file;
    }

    /// <summary>Header, 256 bytes of pixels at offset 8 (16 in BigTIFF), and the first page's directory.</summary>
    private static byte[] FirstPage(bool big, out int nextField)
    {
        (ushort Tag, ushort Type, uint Value)[] entries =
        [
            (256, 3, 16), (257, 3, 16), (258, 3, 8), (259, 3, 1), (262, 3, 1),
            (273, big ? (ushort)16 : (ushort)4, big ? 16u : 8u), (277, 3, 1), (278, 3, 16), (279, 4, 256),
        ];
        var pixels = big ? 16 : 8;
        var directory = pixels + 256;
        var entrySize = big ? 20 : 12;
        var countSize = big ? 8 : 2;
        nextField = directory + countSize + entrySize * entries.Length;
        var file = new byte[nextField + (big ? 8 : 4)];
        file[0] = file[1] = (byte)'I';
        if (big)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(2), 43);
            BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(4), 8);
            BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(8), (ulong)directory);
            BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(directory), (ulong)entries.Length);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(2), 42);
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(4), (uint)directory);
            BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(directory), (ushort)entries.Length);
        }

        for (var i = 0; i < 256; i++)
        {
            file[pixels + i] = (byte)i;
        }

        for (var i = 0; i < entries.Length; i++)
        {
            var entry = file.AsSpan(directory + countSize + entrySize * i);
            BinaryPrimitives.WriteUInt16LittleEndian(entry, entries[i].Tag);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[2..], entries[i].Type);
            if (big)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(entry[4..], 1);
                BinaryPrimitives.WriteUInt32LittleEndian(entry[12..], entries[i].Value); // SHORT and LONG values are left-justified
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], 1);
                BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], entries[i].Value);
            }
        }

        return file;
    }

    private static void Entry(Span<byte> entry, ushort tag, ushort type, uint count, uint value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(entry, tag);
        BinaryPrimitives.WriteUInt16LittleEndian(entry[2..], type);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], count);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], value);
    }
}

using System.Buffers.Binary;

namespace ThumbnailApi.Imaging;

/// <summary>
/// Reads what a TIFF's directories declare before libtiff opens the file (classic TIFF or BigTIFF),
/// and refuses what no thumbnail needs:
/// <list type="bullet">
/// <item>the first page's width × length over the pixel limit (LibTiff.NET would give up with an
/// overflow on strips over 2 GB and call the file damaged);</item>
/// <item>more samples per pixel than <see cref="MaxSamplesPerPixel"/> or a bit depth libtiff's RGBA
/// conversion does not have (1, 2, 4, 8 and 16 bits): a small file declaring 1536 samples of 16 bits
/// makes every pixel 3 KB;</item>
/// <item>more pages than the frame limit, counted by walking the chain of directories here, at most
/// one step past the limit (LibTiff.NET counts pages in a 16-bit number, so 65 536 pages wrap to 0,
/// and it walks the whole chain however long);</item>
/// <item>a directory entry whose data would lie past the end of the file: LibTiff.NET allocates an
/// entry's array from its declared count before reading it, so a 1 KB file declaring a tag of two
/// billion values would cost gigabytes (found by fuzzing).</item>
/// </list>
/// </summary>
internal static class TiffHeader
{
    /// <summary>Colour channels (at most 4: CMYK) plus a few extra samples (alpha and the like).</summary>
    public const int MaxSamplesPerPixel = 8;

    private const ushort ImageWidth = 256;
    private const ushort ImageLength = 257;
    private const ushort BitsPerSample = 258;
    private const ushort SamplesPerPixel = 277;
    private const ushort SampleFormat = 339;

    /// <summary>Reads the first directory and counts the pages; rewinds the stream.</summary>
    /// <exception cref="ImageRejectedException">A limit is passed or an entry points past the end of the file.</exception>
    public static TiffFirstPage Read(Stream input, ImagingLimits limits)
    {
        try
        {
            var file = new TiffFile(input);
            var first = file.FirstDirectory;
            if (first < 0)
            {
                return new TiffFirstPage(0, 0, 1); // libtiff reports the broken offset itself
            }

            var page = ReadDirectory(file, first);
            if (page.Width > 0 && page.Height > 0)
            {
                HeaderProbe.EnforcePixelLimit(page.Width, page.Height, limits);
            }

            if (page.SamplesPerPixel > MaxSamplesPerPixel)
            {
                throw new ImageRejectedException(Rejection.UnsupportedFormat,
                    $"This TIFF has {page.SamplesPerPixel} samples per pixel; at most {MaxSamplesPerPixel} are supported (colour channels plus alpha or other extra samples). Save it with its colour channels and at most one alpha channel, or as PNG or JPEG.");
            }

            if (page.BitsPerSample is not (1 or 2 or 4 or 8 or 16))
            {
                throw TiffVariant.UnsupportedSamples(page.BitsPerSample, (int)page.SampleFormat);
            }

            var pages = CountPages(file, first, Math.Max(1, page.Width * page.Height), limits);
            return new TiffFirstPage(page.Width, page.Height, pages);
        }
        finally
        {
            input.Position = 0;
        }
    }

    private static (long Width, long Height, long SamplesPerPixel, long BitsPerSample, long SampleFormat) ReadDirectory(TiffFile file, long offset)
    {
        long width = 0, height = 0, samples = 1, bits = 1, format = 1;
        foreach (var entry in file.Entries(offset))
        {
            EnsureDataInFile(entry, file);
            switch (entry.Tag)
            {
                case ImageWidth:
                    width = entry.FirstValue(file);
                    break;
                case ImageLength:
                    height = entry.FirstValue(file);
                    break;
                case SamplesPerPixel:
                    samples = entry.FirstValue(file);
                    break;
                case BitsPerSample:
                    bits = entry.FirstValue(file);
                    break;
                case SampleFormat:
                    format = entry.FirstValue(file);
                    break;
            }
        }

        return (width, height, samples, bits, format);
    }

    /// <summary>
    /// Follows the next-directory offsets from the first directory, reading two to eight bytes per
    /// step and never more steps than the limits allow: one past <see cref="ImagingLimits.MaxFrames"/>,
    /// or one past the pages of this size <see cref="ImagingLimits.MaxTotalPixels"/> allows. A loop or
    /// an offset outside the file ends the chain (libtiff stops there too).
    /// </summary>
    private static int CountPages(TiffFile file, long first, long pixelsPerPage, ImagingLimits limits)
    {
        var seen = new HashSet<long> { first };
        var pages = 1;
        var next = file.NextDirectory(first);
        while (next > 0 && seen.Add(next) && file.IsDirectoryAt(next))
        {
            pages++;
            if (pages > limits.MaxFrames)
            {
                throw new ImageRejectedException(Rejection.ImageTooLarge,
                    $"The TIFF has more than {limits.MaxFrames} pages; at most {limits.MaxFrames} are accepted.");
            }

            if (pages * pixelsPerPage > limits.MaxTotalPixels)
            {
                throw new ImageRejectedException(Rejection.ImageTooLarge,
                    $"The TIFF has at least {pages} pages of {pixelsPerPage:N0} pixels; at most {limits.MaxTotalPixels:N0} pixels in all are accepted.");
            }

            next = file.NextDirectory(next);
        }

        return pages;
    }

    /// <summary>Refuses an entry whose values, stored outside it, would run past the end of the file.</summary>
    private static void EnsureDataInFile(TiffEntry entry, TiffFile file)
    {
        if (entry.Bytes > file.InlineBytes && (entry.Offset > (ulong)file.Length || entry.Bytes > (ulong)file.Length - entry.Offset))
        {
            throw ImageRejectedException.Corrupt($"TIFF tag {entry.Tag} claims {entry.Bytes:N0} bytes past the end of the file");
        }
    }

    /// <summary>One directory entry: tag, type, count, and the value or the offset of the values.</summary>
    private readonly record struct TiffEntry(ushort Tag, ushort Type, ulong Count, ulong Offset, long EntryAt)
    {
        /// <summary>Bytes of all values; 0 for types libtiff does not know (it skips those).</summary>
        public ulong Bytes => Count > (ulong)(long.MaxValue / 8) ? ulong.MaxValue : Count * (ulong)TypeSize(Type);

        /// <summary>The first value of a SHORT, LONG or LONG8 entry (0 for other types).</summary>
        public long FirstValue(TiffFile file) => Type switch
        {
            3 => file.UInt16(Bytes > file.InlineBytes ? (long)Offset : EntryAt + file.ValueAt),
            4 => file.UInt32(Bytes > file.InlineBytes ? (long)Offset : EntryAt + file.ValueAt),
            16 when file.Big => (long)Math.Min(file.UInt64(Bytes > file.InlineBytes ? (long)Offset : EntryAt + file.ValueAt), long.MaxValue),
            _ => 0,
        };
    }

    /// <summary>Random access to the file's header and directories, in its byte order.</summary>
    private sealed class TiffFile(Stream input)
    {
        private readonly byte[] _buffer = new byte[8];

        public long Length { get; } = input.Length;

        public bool Little { get; } = Peek(input, 0) == 'I';

        public bool Big => Version == 43;

        private int Version => UInt16At(2);

        /// <summary>Bytes of a value stored in the entry itself.</summary>
        public ulong InlineBytes => Big ? 8UL : 4UL;

        /// <summary>Where an entry's value or offset starts, from the entry's start.</summary>
        public int ValueAt => Big ? 12 : 8;

        private int EntrySize => Big ? 20 : 12;

        /// <summary>The first directory's offset, or -1 when the header or offset is unusable.</summary>
        public long FirstDirectory
        {
            get
            {
                var offset = Big ? (long)Math.Min(UInt64(8), long.MaxValue) : UInt32(4);
                return IsDirectoryAt(offset) ? offset : -1;
            }
        }

        /// <summary>True when a directory's entry count fits in the file at <paramref name="offset"/>.</summary>
        public bool IsDirectoryAt(long offset) => offset >= 8 && offset <= Length - (Big ? 8 : 2);

        public ulong EntryCount(long offset) => Big ? UInt64(offset) : UInt16(offset);

        public IEnumerable<TiffEntry> Entries(long offset)
        {
            var count = Math.Min(EntryCount(offset), ushort.MaxValue);
            var at = offset + (Big ? 8 : 2);
            for (var i = 0UL; i < count && at + EntrySize <= Length; i++, at += EntrySize)
            {
                var tag = UInt16(at);
                var type = UInt16(at + 2);
                var valueCount = Big ? UInt64(at + 4) : UInt32(at + 4);
                var valueOffset = Big ? UInt64(at + 12) : UInt32(at + 8);
                yield return new TiffEntry(tag, type, valueCount, valueOffset, at);
            }
        }

        /// <summary>The next directory's offset after the one at <paramref name="offset"/>; 0 or less at the end.</summary>
        public long NextDirectory(long offset)
        {
            var count = EntryCount(offset);
            if (count > (ulong)(Length / EntrySize))
            {
                return -1;
            }

            var at = offset + (Big ? 8 : 2) + (long)count * EntrySize;
            if (at > Length - (Big ? 8 : 4))
            {
                return -1;
            }

            return Big ? (long)Math.Min(UInt64(at), long.MaxValue) : UInt32(at);
        }

        public ushort UInt16(long at) => Read(at, 2) ? Little ? BinaryPrimitives.ReadUInt16LittleEndian(_buffer) : BinaryPrimitives.ReadUInt16BigEndian(_buffer) : (ushort)0;

        public uint UInt32(long at) => Read(at, 4) ? Little ? BinaryPrimitives.ReadUInt32LittleEndian(_buffer) : BinaryPrimitives.ReadUInt32BigEndian(_buffer) : 0;

        public ulong UInt64(long at) => Read(at, 8) ? Little ? BinaryPrimitives.ReadUInt64LittleEndian(_buffer) : BinaryPrimitives.ReadUInt64BigEndian(_buffer) : 0;

        private int UInt16At(long at) => UInt16(at);

        /// <summary>Reads <paramref name="count"/> bytes at <paramref name="at"/>; false (and zeros) past the end of the file.</summary>
        private bool Read(long at, int count)
        {
            Array.Clear(_buffer);
            if (at < 0 || at > Length - count)
            {
                return false;
            }

            input.Position = at;
            input.ReadExactly(_buffer, 0, count);
            return true;
        }

        private static int Peek(Stream input, long at)
        {
            input.Position = at;
            return input.ReadByte();
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
}

/// <summary>The first page's declared size (0 when missing) and how many pages the file has.</summary>
internal readonly record struct TiffFirstPage(long Width, long Height, int Pages);

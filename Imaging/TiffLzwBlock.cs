using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using BitMiracle.LibTiff.Classic;

namespace ThumbnailApi.Imaging;

/// <summary>
/// Decodes the LZW strips and tiles of 8-bit (or smaller) TIFFs, with or without the horizontal
/// predictor, about twice as fast as LibTiff.NET's codec, whose table of objects costs a write
/// barrier per code: a new table entry is always the previous string plus one byte, and that string
/// is already in the output, so every entry is kept as where it was written and how long it is, and
/// a code is decoded by copying it from there. Only clean data is decoded here: an old-style (LSB-first)
/// stream, a block not starting with a clear code, a code the table does not hold, a table that overflows
/// the way libtiff refuses, or data that ends before the block is full is handed back
/// to LibTiff.NET (<see cref="TryDecode"/> returns false), so that such files end exactly as they did.
/// </summary>
internal sealed class TiffLzwBlock
{
    private const int Clear = 256;
    private const int EndOfInformation = 257;
    private const int FirstFree = 258;
    private const int TableSize = 4096;

    /// <summary>libtiff's table has room past 4096 and calls the data corrupt when that fills too (CSIZE).</summary>
    private const int LibTiffTableEnd = TableSize + 1023;
    private const int MaxWidth = 12;

    private readonly byte[] _raw;
    private readonly int[] _offset = new int[TableSize];
    private readonly int[] _length = new int[TableSize];
    private readonly int _pixelBytes;
    private readonly bool _predictor;

    /// <param name="tiff">The page, read by this instance's lane only.</param>
    /// <param name="maxStoredBlockBytes">The largest stored strip or tile of the page (<see cref="TiffLayout.MaxStoredBlockBytes"/>).</param>
    public TiffLzwBlock(Tiff tiff, long maxStoredBlockBytes)
    {
        _raw = new byte[maxStoredBlockBytes];
        var samples = tiff.GetFieldDefaulted(TiffTag.SAMPLESPERPIXEL)?[0].ToInt() ?? 1;
        var separate = (PlanarConfig)(tiff.GetFieldDefaulted(TiffTag.PLANARCONFIG)?[0].ToInt() ?? 1) == PlanarConfig.SEPARATE;
        _pixelBytes = separate ? 1 : samples;
        _predictor = (Predictor)(tiff.GetFieldDefaulted(TiffTag.PREDICTOR)?[0].ToInt() ?? 1) == Predictor.HORIZONTAL;
    }

    /// <summary>
    /// Whether this page's blocks are decoded here: LZW, bits in the usual order, samples of at most
    /// 8 bits (no byte order to fix), no predictor or the horizontal one on 8-bit samples, and not
    /// subsampled YCbCr (whose blocks are not whole rows of pixels).
    /// </summary>
    public static bool Handles(Tiff tiff)
    {
        var compression = (Compression)(tiff.GetFieldDefaulted(TiffTag.COMPRESSION)?[0].ToInt() ?? 1);
        var fillOrder = (FillOrder)(tiff.GetFieldDefaulted(TiffTag.FILLORDER)?[0].ToInt() ?? 1);
        var bits = tiff.GetFieldDefaulted(TiffTag.BITSPERSAMPLE)?[0].ToInt() ?? 1;
        var predictor = (Predictor)(tiff.GetFieldDefaulted(TiffTag.PREDICTOR)?[0].ToInt() ?? 1);
        var photometric = (Photometric)(tiff.GetField(TiffTag.PHOTOMETRIC)?[0].ToInt() ?? -1);
        return compression == Compression.LZW && fillOrder == FillOrder.MSB2LSB && bits <= 8
               && (predictor == Predictor.NONE || (predictor == Predictor.HORIZONTAL && bits == 8))
               && photometric != Photometric.YCBCR;
    }

    /// <summary>
    /// Decodes strip or tile <paramref name="block"/> into <paramref name="count"/> bytes of
    /// <paramref name="into"/> from <paramref name="at"/>, rows of <paramref name="rowBytes"/> bytes.
    /// False when the block is not clean new-style LZW that fills them: read it with LibTiff.NET then.
    /// </summary>
    public bool TryDecode(Tiff tiff, int block, bool tiled, byte[] into, int at, int count, int rowBytes)
    {
        if (rowBytes <= 0 || count <= 0)
        {
            return false;
        }

        var read = tiled ? tiff.ReadRawTile(block, _raw, 0, _raw.Length) : tiff.ReadRawStrip(block, _raw, 0, _raw.Length);

        var input = _raw.AsSpan(0, Math.Max(read, 0));
        if (input.Length < 2 || (input[0] == 0 && (input[1] & 1) != 0)) // empty, or old-style LZW (libtiff's test)
        {
            return false;
        }

        var output = into.AsSpan(at, count);
        if (Decode(input, output) != count)
        {
            return false;
        }

        if (_predictor)
        {
            UndoHorizontalDifferences(output, rowBytes, _pixelBytes);
        }

        return true;
    }

    /// <summary>
    /// Decodes MSB-first LZW with TIFF's early change of code width, until the end code or a full
    /// <paramref name="output"/>. Returns the bytes written, or −1 on a code the table does not hold.
    /// </summary>
    internal int Decode(ReadOnlySpan<byte> input, Span<byte> output)
    {
        ref var offsets = ref MemoryMarshal.GetArrayDataReference(_offset);
        ref var lengths = ref MemoryMarshal.GetArrayDataReference(_length);
        ref var outputStart = ref MemoryMarshal.GetReference(output);
        var end = output.Length;
        ulong bits = 0; // unread bits, from the top
        var bitCount = 0;
        var next = 0;
        var width = 9;
        var free = FirstFree;
        var written = 0;
        var previousAt = -1; // where the previous code's string was written; −1 right after a clear
        var cleared = false; // libtiff refuses a block that does not start with a clear code
        var previousLength = 0;

        while (written < end)
        {
            if (bitCount < width)
            {
                while (bitCount <= 56 && next < input.Length)
                {
                    bits |= (ulong)input[next++] << (56 - bitCount);
                    bitCount += 8;
                }

                if (bitCount < width)
                {
                    break; // the data ends without an end code
                }
            }

            // 12 bits at most: every code indexes the 4096-entry tables.
            var code = (int)(bits >> (64 - width));
            bits <<= width;
            bitCount -= width;

            if (code == Clear)
            {
                cleared = true;
                width = 9;
                free = FirstFree;
                previousAt = -1;
                continue;
            }

            if (code == EndOfInformation)
            {
                break;
            }

            if (!cleared)
            {
                return -1;
            }

            var at = written;
            int stringLength;
            if (code < Clear)
            {
                Unsafe.Add(ref outputStart, written++) = (byte)code;
                stringLength = 1;
            }
            else if (previousAt < 0)
            {
                return -1; // the first code after a clear must be a literal
            }
            else if (code < free)
            {
                stringLength = Unsafe.Add(ref lengths, code);
                written += CopyWithin(ref outputStart, end, Unsafe.Add(ref offsets, code), written, stringLength);
            }
            else if (code == free)
            {
                // The string being defined right now: the previous one and its own first byte.
                stringLength = previousLength + 1;
                var copied = CopyWithin(ref outputStart, end, previousAt, written, previousLength);
                written += copied;
                if (copied == previousLength && written < end)
                {
                    Unsafe.Add(ref outputStart, written) = Unsafe.Add(ref outputStart, previousAt);
                    written++;
                }
            }
            else
            {
                return -1;
            }

            if (previousAt >= 0)
            {
                if (free >= LibTiffTableEnd)
                {
                    return -1;
                }

                if (free < TableSize)
                {
                    // Past 4096 an entry cannot be named by a 12-bit code: it is only counted, as libtiff does.
                    Unsafe.Add(ref offsets, free) = previousAt;
                    Unsafe.Add(ref lengths, free) = previousLength + 1;
                }

                free++;
                if (free >= (1 << width) - 1 && width < MaxWidth)
                {
                    width++;
                }
            }

            previousAt = at;
            previousLength = stringLength;
        }

        return written;
    }

    /// <summary>
    /// Copies <paramref name="count"/> bytes written earlier (<paramref name="from"/> + count ≤ <paramref name="to"/>)
    /// to <paramref name="to"/>, as many as fit before <paramref name="end"/>; returns how many. Away from
    /// the end it copies whole 16-byte blocks, past the string's end: those bytes are written over next.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CopyWithin(ref byte output, int end, int from, int to, int count)
    {
        if (to + count + Vector128<byte>.Count <= end)
        {
            // Each block is loaded before it is stored, and a block never reads what an earlier one wrote (to − from ≥ count).
            for (var done = 0; done < count; done += Vector128<byte>.Count)
            {
                Vector128.LoadUnsafe(ref output, (nuint)(from + done)).StoreUnsafe(ref output, (nuint)(to + done));
            }

            return count;
        }

        count = Math.Min(count, end - to);
        for (var i = 0; i < count; i++)
        {
            Unsafe.Add(ref output, to + i) = Unsafe.Add(ref output, from + i);
        }

        return count;
    }

    /// <summary>
    /// TIFF's horizontal predictor (Predictor = 2) on 8-bit samples: each sample was stored as the
    /// difference to the same sample of the pixel before it. The running sums stay in registers.
    /// </summary>
    private static void UndoHorizontalDifferences(Span<byte> rows, int rowBytes, int pixelBytes)
    {
        for (var start = 0; start + rowBytes <= rows.Length; start += rowBytes)
        {
            var row = rows.Slice(start, rowBytes);
            switch (pixelBytes)
            {
                case 3 when row.Length >= 3:
                {
                    byte r = row[0], g = row[1], b = row[2];
                    for (var i = 3; i + 2 < row.Length; i += 3)
                    {
                        row[i] = r += row[i];
                        row[i + 1] = g += row[i + 1];
                        row[i + 2] = b += row[i + 2];
                    }

                    break;
                }

                case 4 when row.Length >= 4:
                {
                    byte r = row[0], g = row[1], b = row[2], a = row[3];
                    for (var i = 4; i + 3 < row.Length; i += 4)
                    {
                        row[i] = r += row[i];
                        row[i + 1] = g += row[i + 1];
                        row[i + 2] = b += row[i + 2];
                        row[i + 3] = a += row[i + 3];
                    }

                    break;
                }

                default:
                    for (var i = pixelBytes; i < row.Length; i++)
                    {
                        row[i] += row[i - pixelBytes];
                    }

                    break;
            }
        }
    }
}

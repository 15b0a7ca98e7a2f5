namespace ThumbnailApi.Imaging;

/// <summary>GIF's variable-length LZW: a decoder that follows Pillow's rules, and a literal-only encoder.</summary>
internal static class GifLzw
{
    /// <summary>Largest minimum code size decoded: its clear and end codes still leave room in the 4096-entry table.</summary>
    public const int MaxCodeSize = 11;

    private const int TableSize = 4096;
    private const int MaxCodeBits = 12;

    /// <summary>
    /// Decodes the sub-blocks in <paramref name="data"/> into <paramref name="pixels"/>; true when every
    /// pixel was decoded. Like Pillow, anything after the last pixel is not read; a code that is not
    /// in the table yet, or data that ends first, gives false.
    /// </summary>
    public static bool Decode(ReadOnlySpan<byte> data, int codeSize, Span<byte> pixels)
    {
        var prefix = new short[TableSize];
        var suffix = new byte[TableSize];
        var first = new byte[TableSize];
        var stack = new byte[TableSize];
        var clear = 1 << codeSize;
        for (var i = 0; i < clear; i++)
        {
            suffix[i] = first[i] = (byte)i;
        }

        var reader = new SubBlockBits(data);
        var width = codeSize + 1;
        var next = clear + 2;
        var previous = -1;
        var written = 0;
        while (written < pixels.Length && reader.TryRead(width, out var code))
        {
            if (code == clear)
            {
                (width, next, previous) = (codeSize + 1, clear + 2, -1);
                continue;
            }

            if (code == clear + 1 || code > next || (previous < 0 && code > clear))
            {
                return false; // the end code before the last pixel, or a code not in the table
            }

            var depth = 0;
            var entry = code;
            if (code == next)
            {
                stack[depth++] = first[previous]; // the KwKwK case: the previous string plus its own first byte
                entry = previous;
            }

            while (entry >= clear)
            {
                stack[depth++] = suffix[entry];
                entry = prefix[entry];
            }

            stack[depth++] = suffix[entry];
            for (; depth > 0 && written < pixels.Length; written++)
            {
                pixels[written] = stack[--depth];
            }

            if (previous >= 0 && next < TableSize)
            {
                // The previous string plus the first byte of this one (entry is now that byte's literal code).
                prefix[next] = (short)previous;
                suffix[next] = suffix[entry];
                first[next] = first[previous];
                next++;
                if (next == 1 << width && width < MaxCodeBits)
                {
                    width++;
                }
            }

            previous = code;
        }

        return written == pixels.Length;
    }

    /// <summary>
    /// Writes <paramref name="pixels"/> as GIF image data with minimum code size 8: the code size
    /// byte, sub-blocks of 9-bit literal codes (a clear code often enough that the code width never
    /// grows), the end code and the terminating empty sub-block.
    /// </summary>
    public static void EncodeLiterals(ReadOnlySpan<byte> pixels, Stream output)
    {
        const int CodeSize = 8;
        const int Clear = 1 << CodeSize;
        const int LiteralsPerClear = 250; // the table reaches 258 + 249 entries, below the 512 that widen codes
        output.WriteByte(CodeSize);
        var writer = new SubBlockWriter(output);
        for (var i = 0; i < pixels.Length; i++)
        {
            if (i % LiteralsPerClear == 0)
            {
                writer.Write(Clear, CodeSize + 1);
            }

            writer.Write(pixels[i], CodeSize + 1);
        }

        writer.Write(Clear + 1, CodeSize + 1);
        writer.Finish();
    }

    /// <summary>Reads codes, least significant bit first, from data split into length-prefixed sub-blocks.</summary>
    private ref struct SubBlockBits(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _at;
        private int _blockLeft;
        private int _bits;
        private int _count;

        public bool TryRead(int width, out int code)
        {
            while (_count < width)
            {
                if (_blockLeft == 0)
                {
                    if (_at >= _data.Length || _data[_at] == 0)
                    {
                        code = 0;
                        return false;
                    }

                    _blockLeft = _data[_at++];
                }

                if (_at >= _data.Length)
                {
                    code = 0;
                    return false;
                }

                _bits |= _data[_at++] << _count;
                _count += 8;
                _blockLeft--;
            }

            code = _bits & ((1 << width) - 1);
            _bits >>= width;
            _count -= width;
            return true;
        }
    }

    /// <summary>Packs codes, least significant bit first, into sub-blocks of up to 255 bytes.</summary>
    private sealed class SubBlockWriter(Stream output)
    {
        private readonly byte[] _block = new byte[255];
        private int _length;
        private int _bits;
        private int _count;

        public void Write(int code, int width)
        {
            _bits |= code << _count;
            _count += width;
            while (_count >= 8)
            {
                Append((byte)_bits);
                _bits >>= 8;
                _count -= 8;
            }
        }

        public void Finish()
        {
            if (_count > 0)
            {
                Append((byte)_bits);
            }

            Flush();
            output.WriteByte(0);
        }

        private void Append(byte value)
        {
            _block[_length++] = value;
            if (_length == _block.Length)
            {
                Flush();
            }
        }

        private void Flush()
        {
            if (_length == 0)
            {
                return;
            }

            output.WriteByte((byte)_length);
            output.Write(_block, 0, _length);
            _length = 0;
        }
    }
}

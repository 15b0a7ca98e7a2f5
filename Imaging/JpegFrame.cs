namespace ThumbnailApi.Imaging;

/// <summary>
/// Reads a JPEG's frame header (SOFn) to name the variants Skia's 8-bit libjpeg-turbo cannot decode
/// (12- and 16-bit samples, lossless, hierarchical), so they are refused as unsupported_format rather
/// than failing later in the decoder as if they were damaged. Baseline, extended, progressive and
/// arithmetic-coded 8-bit JPEGs all pass. Also walks the marker segments and scans, without
/// decoding, to count the scans and to see whether the file reaches its end marker.
/// </summary>
internal static class JpegFrame
{
    private const int MaxBytesBeforeFrame = 1 << 20;

    /// <summary>Why the JPEG in <paramref name="input"/> cannot be decoded here, or null. Rewinds the stream.</summary>
    public static string? UnsupportedVariant(Stream input) => FrameHeader(input) switch
    {
        (0xC3 or 0xC7 or 0xCB or 0xCF, _) => "lossless JPEG",
        (0xC5 or 0xC6 or 0xCD or 0xCE, _) => "hierarchical JPEG",
        (_, var precision and not 8 and >= 0) => $"{precision}-bit JPEG",
        _ => null,
    };

    /// <summary>True for a progressive JPEG (SOF2 or SOF10). Rewinds the stream.</summary>
    public static bool IsProgressive(Stream input) => FrameHeader(input).Marker is 0xC2 or 0xCA;

    /// <summary>The SOFn marker and sample precision, or (-1, -1) when there is none before the first scan.</summary>
    private static (int Marker, int Precision) FrameHeader(Stream input)
    {
        try
        {
            return Scan(input);
        }
        finally
        {
            input.Position = 0;
        }
    }

    private static (int Marker, int Precision) Scan(Stream input)
    {
        input.Position = 2; // after SOI
        Span<byte> segment = stackalloc byte[2];
        while (input.Position < MaxBytesBeforeFrame)
        {
            var marker = NextMarker(input);
            if (marker is < 0 or 0xD9 or 0xDA)
            {
                break; // end of data, EOI or SOS before any frame header: left to the decoder
            }

            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                continue; // stand-alone markers carry no length
            }

            if (input.ReadAtLeast(segment, 2, throwOnEndOfStream: false) < 2)
            {
                break;
            }

            if (marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC))
            {
                return (marker, input.ReadByte());
            }

            input.Position += Math.Max(0, ((segment[0] << 8) | segment[1]) - 2);
        }

        return (-1, -1);
    }

    /// <summary>
    /// True when the marker segments and scans run on to an end-of-image marker. libjpeg fills in a
    /// progressive JPEG that stops early from the scans it has, so Skia reports success for a cut-off
    /// file; this walk finds the cut. Data after the end marker (phone makers' trailers) is not read.
    /// Rewinds the stream.
    /// </summary>
    public static bool ReachesEndOfImage(Stream input) => Walk(input, stopAboveScans: int.MaxValue).ReachesEnd;

    /// <summary>
    /// The number of scans (SOS segments), or <paramref name="stopAbove"/> + 1 as soon as there are
    /// more: a progressive JPEG with thousands of scans is small but makes libjpeg walk every block of
    /// the picture once per scan. Costs one pass over the bytes. Rewinds the stream.
    /// </summary>
    public static int CountScans(Stream input, int stopAbove) => Walk(input, stopAbove).Scans;

    private static (bool ReachesEnd, int Scans) Walk(Stream input, int stopAboveScans)
    {
        try
        {
            input.Position = 2;
            var reader = new ByteReader(input);
            var scans = 0;
            var marker = reader.NextMarker();
            while (marker >= 0 && scans <= stopAboveScans)
            {
                if (marker == 0xD9)
                {
                    return (true, scans);
                }

                if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
                {
                    marker = reader.NextMarker();
                    continue;
                }

                var length = (reader.Next() << 8) | reader.Next();
                if (length < 2 || !reader.Skip(length - 2))
                {
                    return (false, scans);
                }

                scans += marker == 0xDA ? 1 : 0;
                marker = marker == 0xDA ? reader.EndOfEntropyCodedData() : reader.NextMarker();
            }

            return (false, scans);
        }
        finally
        {
            input.Position = 0;
        }
    }

    private static int NextMarker(Stream input)
    {
        int b;
        do
        {
            b = input.ReadByte();
        }
        while (b is not (-1 or 0xFF));

        do
        {
            b = input.ReadByte();
        }
        while (b == 0xFF);

        return b;
    }

    /// <summary>Buffered forward reading of a stream, byte by byte or by skipping.</summary>
    private sealed class ByteReader(Stream input)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _position;
        private int _count;

        public int Next()
        {
            if (_position == _count && !Fill())
            {
                return -1;
            }

            return _buffer[_position++];
        }

        public bool Skip(int bytes)
        {
            while (bytes > 0)
            {
                if (_position == _count && !Fill())
                {
                    return false;
                }

                var step = Math.Min(bytes, _count - _position);
                _position += step;
                bytes -= step;
            }

            return true;
        }

        /// <summary>The next marker after 0xFF (and fill bytes), or -1 at the end of the data.</summary>
        public int NextMarker()
        {
            int b;
            do
            {
                b = Next();
            }
            while (b is not (-1 or 0xFF));

            while (b == 0xFF)
            {
                b = Next();
            }

            return b;
        }

        /// <summary>Skips entropy-coded data (where 0xFF00 is a data byte and RSTn may occur); returns the marker that ends it.</summary>
        public int EndOfEntropyCodedData()
        {
            while (true)
            {
                var at = _buffer.AsSpan(_position, _count - _position).IndexOf((byte)0xFF);
                if (at < 0)
                {
                    _position = _count;
                    if (!Fill())
                    {
                        return -1;
                    }

                    continue;
                }

                _position += at + 1;
                var b = Next();
                while (b == 0xFF)
                {
                    b = Next();
                }

                if (b is not (0x00 or (>= 0xD0 and <= 0xD7)))
                {
                    return b;
                }
            }
        }

        private bool Fill()
        {
            _count = input.Read(_buffer, 0, _buffer.Length);
            _position = 0;
            return _count > 0;
        }
    }
}

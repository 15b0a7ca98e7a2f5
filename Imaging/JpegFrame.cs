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
    public static string? UnsupportedVariant(Stream input) => Read(input) switch
    {
        { Marker: 0xC3 or 0xC7 or 0xCB or 0xCF } => "lossless JPEG",
        { Marker: 0xC5 or 0xC6 or 0xCD or 0xCE } => "hierarchical JPEG",
        { Precision: not 8 and var precision } => $"{precision}-bit JPEG",
        _ => null,
    };

    /// <summary>The frame header (SOFn), or null when there is none before the first scan. Rewinds the stream.</summary>
    public static JpegFrameHeader? Read(Stream input)
    {
        try
        {
            return Scan(input);
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

    private static JpegFrameHeader? Scan(Stream input)
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
                return ReadFrame(input, marker);
            }

            input.Position += Math.Max(0, ((segment[0] << 8) | segment[1]) - 2);
        }

        return null;
    }

    /// <summary>Reads a SOFn segment's body: precision, height, width and each component's sampling factors.</summary>
    private static JpegFrameHeader ReadFrame(Stream input, int marker)
    {
        Span<byte> head = stackalloc byte[6];
        input.ReadExactly(head);
        var components = new (int H, int V)[head[5]];
        Span<byte> component = stackalloc byte[3];
        for (var i = 0; i < components.Length; i++)
        {
            input.ReadExactly(component);
            components[i] = (Math.Max(1, component[1] >> 4), Math.Max(1, component[1] & 0x0F));
        }

        return new JpegFrameHeader(marker, head[0], (head[1] << 8) | head[2], (head[3] << 8) | head[4], components);
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

/// <summary>A JPEG's frame header: the SOFn marker, sample precision, size and each component's sampling factors.</summary>
internal sealed record JpegFrameHeader(int Marker, int Precision, int Height, int Width, IReadOnlyList<(int H, int V)> Components)
{
    /// <summary>Progressive (SOF2 or SOF10): libjpeg keeps every DCT coefficient of the picture until the last scan.</summary>
    public bool Progressive => Marker is 0xC2 or 0xCA;

    /// <summary>
    /// Bytes of the whole-picture coefficient buffer a progressive decode holds: 64 coefficients of
    /// 2 bytes per 8 × 8 block of every component, whole MCUs.
    /// </summary>
    public long CoefficientBytes
    {
        get
        {
            if (Components.Count == 0)
            {
                return 0;
            }

            var maxH = Components.Max(c => c.H);
            var maxV = Components.Max(c => c.V);
            var mcuColumns = (Width + 8L * maxH - 1) / (8L * maxH);
            var mcuRows = (Height + 8L * maxV - 1) / (8L * maxV);
            return Components.Sum(c => mcuColumns * c.H * mcuRows * c.V) * 64 * 2;
        }
    }
}

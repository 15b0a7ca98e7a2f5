namespace ThumbnailApi.Imaging;

/// <summary>
/// Reads a JPEG's frame header (SOFn) to name the variants Skia's 8-bit libjpeg-turbo cannot decode
/// (12- and 16-bit samples, lossless, hierarchical), so they are refused as unsupported_format rather
/// than failing later in the decoder as if they were damaged. Baseline, extended, progressive and
/// arithmetic-coded 8-bit JPEGs all pass.
/// </summary>
internal static class JpegFrame
{
    private const int MaxBytesBeforeFrame = 1 << 20;

    /// <summary>Why the JPEG in <paramref name="input"/> cannot be decoded here, or null. Rewinds the stream.</summary>
    public static string? UnsupportedVariant(Stream input)
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

    private static string? Scan(Stream input)
    {
        input.Position = 2; // after SOI
        Span<byte> segment = stackalloc byte[3];
        while (input.Position < MaxBytesBeforeFrame)
        {
            var marker = NextMarker(input);
            if (marker is < 0 or 0xD9 or 0xDA)
            {
                return null; // end of data, EOI or SOS before any frame header: left to the decoder
            }

            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                continue; // stand-alone markers carry no length
            }

            if (input.ReadAtLeast(segment[..2], 2, throwOnEndOfStream: false) < 2)
            {
                return null;
            }

            var length = (segment[0] << 8) | segment[1];
            if (marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC))
            {
                var precision = input.ReadByte();
                return marker switch
                {
                    0xC3 or 0xC7 or 0xCB or 0xCF => "lossless JPEG",
                    0xC5 or 0xC6 or 0xCD or 0xCE => "hierarchical JPEG",
                    _ when precision != 8 => $"{precision}-bit JPEG",
                    _ => null,
                };
            }

            input.Position += Math.Max(0, length - 2);
        }

        return null;
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
}

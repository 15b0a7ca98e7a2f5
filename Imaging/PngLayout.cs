namespace ThumbnailApi.Imaging;

/// <summary>
/// What a PNG's IHDR says about decoding memory. Skia decodes a PNG whole (its PNG codec has no
/// scanline decoding here), and an interlaced one also keeps every pass in the file's own pixel
/// format until the last pass: measured 1 byte a pixel more for palette, 3 for RGB, 8 for 16-bit RGBA.
/// </summary>
internal readonly record struct PngLayout(int BitDepth, int ColourType, bool Interlaced)
{
    /// <summary>Signature (8), IHDR length and type (8), and the 13 bytes of IHDR.</summary>
    public const int BytesNeeded = 29;

    public static PngLayout Read(ReadOnlySpan<byte> head) => head.Length < BytesNeeded
        ? new PngLayout(16, 6, Interlaced: true) // unreadable here: assume the costliest; Skia reports the damage
        : new PngLayout(head[24], head[25], head[28] == 1);

    private int Channels => ColourType switch
    {
        0 or 3 => 1, // grey, palette
        4 => 2,      // grey + alpha
        2 => 3,      // RGB
        _ => 4,      // RGBA (and anything unknown)
    };

    /// <summary>Bytes per pixel of the file's own format, at least one (1-, 2- and 4-bit pixels are unpacked to bytes).</summary>
    private int StoredBytesPerPixel => Math.Max(1, Channels * Math.Max(8, (int)BitDepth) / 8);

    /// <summary>Besides the decoded picture: the passes in the stored format when interlaced, else a couple of rows.</summary>
    public long DecoderBytes(int width, int height) =>
        Interlaced ? (long)StoredBytesPerPixel * width * height : 2L * StoredBytesPerPixel * width;
}

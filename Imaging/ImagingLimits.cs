namespace ThumbnailApi.Imaging;

/// <summary>Decompression-bomb guards, checked against the header before any pixel buffer exists.</summary>
public sealed record ImagingLimits
{
    /// <summary>
    /// Most pixels a decoder may produce (default 100 megapixels): width × height, but for a JPEG the
    /// size libjpeg decodes it at after DCT scaling, counted at no less than half per side (<see cref="JpegDecodedSize"/>).
    /// </summary>
    public long MaxPixels { get; init; } = 100_000_000;

    /// <summary>Most frames (GIF/WebP) or pages (TIFF) a file may declare.</summary>
    public int MaxFrames { get; init; } = 1000;

    /// <summary>Largest frames × width × height: all frames or pages of a file together (default 2 gigapixels).</summary>
    public long MaxTotalPixels { get; init; } = 2_000_000_000;

    /// <summary>Most scans a JPEG may have (a normal progressive JPEG has about ten), counted before decoding.</summary>
    public int MaxJpegScans { get; init; } = 50;

    /// <summary>
    /// Memory one thumbnail may need at most (the encoded file, the decoder's buffers and the shrunk
    /// picture), worked out from the header before decoding. An image that needs more is refused.
    /// </summary>
    public long MaxDecodeMemoryBytes { get; init; } = 512L * 1024 * 1024;
}

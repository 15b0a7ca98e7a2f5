using BitMiracle.LibTiff.Classic;

namespace ThumbnailApi.Imaging;

/// <summary>
/// How a TIFF page's pixels are stored, and so how they can be read: in blocks (strips or tiles),
/// several at once on as many cores, or — for strips too big to hold — row by row, each plane by
/// its own reader, so no piece of work is bigger than <see cref="MaxBlockBytes"/> and the deadline is
/// checked every few rows. A block that cannot be read in pieces (a tile, or a strip of subsampled
/// YCbCr) and is bigger than that is refused.
/// </summary>
internal sealed record TiffLayout
{
    /// <summary>Largest block (decoded samples plus its RGBA pixels) read in one call: ~0.3 s of LZW.</summary>
    public const long MaxBlockBytes = 64L * 1024 * 1024;

    /// <summary>Largest strip read whole; bigger strips are read row by row.</summary>
    public const long MaxWholeStripBytes = 16L * 1024 * 1024;

    /// <summary>
    /// Bytes of rows (samples or RGBA pixels, whichever is bigger) converted at once when strips are
    /// read row by row; the deadline is checked between chunks. Kept small because LibTiff.NET's
    /// 16-bit converters copy their whole input buffer on every call.
    /// </summary>
    private const long RowChunkBytes = 256 * 1024;

    public required int Width { get; init; }

    public required int Height { get; init; }

    public required bool Tiled { get; init; }

    /// <summary>Tile width, or the image width for strips.</summary>
    public required int BlockWidth { get; init; }

    /// <summary>Tile length, or rows per strip (at most the image height).</summary>
    public required int BlockHeight { get; init; }

    /// <summary>
    /// Sample planes read for one block: 1 when samples are interleaved, 3 or 4 (RGB, alpha) when
    /// separate, or every sample when a single grey plane has extra samples stored apart.
    /// </summary>
    public required int Planes { get; init; }

    /// <summary>
    /// For grey with its extra samples (alpha) in separate planes, which libtiff's RGBA interface
    /// has no routine for: the bytes of one sample (1 or 2). The planes are interleaved into one
    /// buffer and converted as if stored that way. 0 otherwise.
    /// </summary>
    public required int InterleavedSampleBytes { get; init; }

    /// <summary>
    /// Planes read: all of them, except for grey whose extra samples are not alpha (<see cref="ExtraSampleIsNotAlpha"/>),
    /// of which only the grey plane is needed; the others stay zero (some writers leave them empty).
    /// </summary>
    public int PlanesToRead => InterleavedSampleBytes > 0 && ExtraSampleIsNotAlpha ? 1 : Planes;

    /// <summary>The buffer the planes of a block are interleaved into (0 when they are not).</summary>
    private long InterleaveBytes => InterleavedSampleBytes > 0 ? Planes * BlockBytes : 0;

    /// <summary>Decoded bytes of one block of one plane (StripSize or TileSize).</summary>
    public required long BlockBytes { get; init; }

    /// <summary>Decoded bytes of one row of one plane (ScanlineSize).</summary>
    public required long ScanlineBytes { get; init; }

    /// <summary>The largest stored (compressed) block: LibTiff.NET holds one while it decodes it.</summary>
    public required long MaxStoredBlockBytes { get; init; }

    /// <summary>True when rows can be decoded one at a time (strips whose samples libtiff hands over as whole rows).</summary>
    public required bool RowByRow { get; init; }

    /// <summary>Whether blocks are worth decoding on several cores (LZW, Deflate and PackBits are slow in managed code).</summary>
    public required bool Parallel { get; init; }

    /// <summary>The directory's tables of block offsets and sizes, as LibTiff.NET holds them (8 bytes an entry).</summary>
    public required long DirectoryBytes { get; init; }

    /// <summary>
    /// For JPEG compression, the coefficient buffer LibJpeg.Net keeps while it decodes the biggest
    /// progressive JPEG among the blocks (baseline ones stream). It holds each 8 × 8 block as its own
    /// array of 64 shorts: measured at 1.55 (one process) to 1.85 (the service's server GC) times the
    /// 128 bytes of the coefficients themselves; counted as twice.
    /// </summary>
    public required long JpegCoefficientBytes { get; init; }

    /// <summary>
    /// True when the sample after the colour channels is marked as unspecified data (ExtraSamples = 0):
    /// libtiff's RGBA interface takes it for associated alpha, but it is not transparency (Pillow reads
    /// such a file as RGBX), so the picture is made opaque.
    /// </summary>
    public required bool ExtraSampleIsNotAlpha { get; init; }

    /// <summary>True when the blocks are JPEG streams Skia decodes (<see cref="TiffJpegBlock"/>), not LibJpeg.Net.</summary>
    public required bool JpegBlocksBySkia { get; init; }

    /// <summary>
    /// True when the blocks are LZW that <see cref="TiffLzwBlock"/> decodes, not LibTiff.NET (which still
    /// reads a block that is not clean LZW, with a stored-block buffer of its own).
    /// </summary>
    public required bool LzwBlocksByUs { get; init; }

    /// <summary>Decoding one block of every plane: its samples and its RGBA pixels.</summary>
    private long BlockWorkBytes => Planes * BlockBytes + InterleaveBytes + 4L * BlockWidth * BlockHeight;

    /// <summary>The bytes one block-reading lane holds: a block of every plane, the RGBA band of a row of blocks, and a stored block (two with our LZW decoder's).</summary>
    public long LaneBytes => Planes * BlockBytes + InterleaveBytes + 4L * Width * BlockHeight + (LzwBlocksByUs ? 2 : 1) * MaxStoredBlockBytes + JpegCoefficientBytes;

    /// <summary>True when strips are too big to read whole and are read row by row.</summary>
    public bool ReadsRows => !Tiled && RowByRow && BlockWorkBytes > MaxWholeStripBytes;

    /// <summary>Rows converted per step when reading row by row.</summary>
    public int RowChunk => (int)Math.Clamp(RowChunkBytes / Math.Max(4L * Width, Planes * ScanlineBytes), 1, Math.Max(1, Height));

    /// <summary>What the row-by-row reader holds: a stored strip and a chunk of rows per plane, and their RGBA pixels.</summary>
    public long RowReaderBytes => Planes * (MaxStoredBlockBytes + JpegCoefficientBytes + ScanlineBytes * RowChunk * (InterleavedSampleBytes > 0 ? 2 : 1)) + 4L * Width * RowChunk;

    public static TiffLayout Read(Tiff tiff, int width, int height, EncodedInput input)
    {
        var fileLength = input.Length;
        var tiled = tiff.IsTiled();
        var blockWidth = tiled ? tiff.GetField(TiffTag.TILEWIDTH)?[0].ToInt() ?? 0 : width;
        var blockHeight = tiled
            ? tiff.GetField(TiffTag.TILELENGTH)?[0].ToInt() ?? 0
            : tiff.GetFieldDefaulted(TiffTag.ROWSPERSTRIP)?[0].ToInt() ?? height;
        if (!tiled && (blockHeight <= 0 || blockHeight > height))
        {
            blockHeight = height; // 0, -1 (2^32 - 1) or more than the image: one strip
        }

        if (blockWidth <= 0 || blockHeight <= 0 || (tiled && (blockWidth > 65536 || blockHeight > 65536)))
        {
            throw ImageRejectedException.Corrupt("the TIFF strip or tile size is invalid");
        }

        var separate = (PlanarConfig)(tiff.GetFieldDefaulted(TiffTag.PLANARCONFIG)?[0].ToInt() ?? 1) == PlanarConfig.SEPARATE;
        var samples = tiff.GetFieldDefaulted(TiffTag.SAMPLESPERPIXEL)?[0].ToInt() ?? 1;
        var photometric = (Photometric)(tiff.GetField(TiffTag.PHOTOMETRIC)?[0].ToInt() ?? -1);
        var compression = (Compression)(tiff.GetFieldDefaulted(TiffTag.COMPRESSION)?[0].ToInt() ?? 1);
        var extraSamples = tiff.GetFieldDefaulted(TiffTag.EXTRASAMPLES)?[0].ToInt() ?? 0;
        var greyWithExtraPlanes = separate && samples - extraSamples == 1 && samples > 1;
        var planes = greyWithExtraPlanes ? samples
            : separate && samples - extraSamples > 1 ? Math.Min(samples, 4) // libtiff's rule for "contiguous"
            : 1;
        var bits = tiff.GetFieldDefaulted(TiffTag.BITSPERSAMPLE)?[0].ToInt() ?? 1;
        if (greyWithExtraPlanes && bits is not (8 or 16))
        {
            throw new ImageRejectedException(Rejection.UnsupportedFormat,
                $"This TIFF stores grey with {bits}-bit samples and its alpha or other extra samples in separate planes, which is not supported; save it with interleaved samples (the usual way), or as PNG.");
        }

        var blocks = tiled ? tiff.NumberOfTiles() : tiff.NumberOfStrips();
        var stored = 0L;
        for (var i = 0; i < blocks; i++)
        {
            var size = tiff.RawStripSize(i); // the same table for tiles
            if (size > fileLength)
            {
                throw ImageRejectedException.Corrupt($"TIFF {(tiled ? "tile" : "strip")} {i} claims {size:N0} bytes, more than the file has");
            }

            stored = Math.Max(stored, size);
        }

        var blockBytes = tiled ? tiff.TileSize() : tiff.VStripSize(blockHeight);
        var layout = new TiffLayout
        {
            Width = width,
            Height = height,
            Tiled = tiled,
            BlockWidth = blockWidth,
            BlockHeight = blockHeight,
            Planes = planes,
            InterleavedSampleBytes = greyWithExtraPlanes ? bits / 8 : 0,
            BlockBytes = blockBytes > 0 ? blockBytes : long.MaxValue / 16, // 0: LibTiff.NET's size overflowed int
            ScanlineBytes = tiff.ScanlineSize(),
            MaxStoredBlockBytes = stored,
            DirectoryBytes = 16L * blocks,
            JpegCoefficientBytes = compression == Compression.JPEG ? ProgressiveJpegBytes(tiff, blocks, input) : 0,
            // Subsampled YCbCr (not JPEG, which libjpeg converts to RGB) is stored in blocks of rows,
            // and old-style JPEG decodes whole strips: both are read a whole strip at a time.
            RowByRow = !tiled && compression != Compression.OJPEG && (photometric != Photometric.YCBCR || compression == Compression.JPEG),
            Parallel = compression is Compression.LZW or Compression.ADOBE_DEFLATE or Compression.DEFLATE or Compression.PACKBITS,
            ExtraSampleIsNotAlpha = FirstExtraSampleIsUnspecified(tiff),
            JpegBlocksBySkia = TiffJpegBlock.Handles(tiff, planes),
            LzwBlocksByUs = TiffLzwBlock.Handles(tiff),
        };
        layout.RefuseBlocksTooBigToRead();
        return layout;
    }

    private static bool FirstExtraSampleIsUnspecified(Tiff tiff) =>
        tiff.GetField(TiffTag.EXTRASAMPLES) is [var count, var kinds, ..]
        && count.ToInt() > 0
        && kinds.ToShortArray() is [(short)ExtraSample.UNSPECIFIED, ..];

    /// <summary>The largest whole-block coefficient buffer among the blocks that hold a progressive JPEG (their SOF says so).</summary>
    private static unsafe long ProgressiveJpegBytes(Tiff tiff, int blocks, EncodedInput input)
    {
        if (tiff.GetField(tiff.IsTiled() ? TiffTag.TILEOFFSETS : TiffTag.STRIPOFFSETS)?[0].Value is not ulong[] offsets)
        {
            return 0;
        }

        var largest = 0L;
        for (var i = 0; i < Math.Min(blocks, offsets.Length); i++)
        {
            var size = tiff.RawStripSize(i);
            if (offsets[i] >= (ulong)input.Length || size < 4 || size > input.Length - (long)offsets[i])
            {
                continue; // unreadable: libtiff reports it when it gets there
            }

            using var block = new UnmanagedMemoryStream(input.Pointer + offsets[i], size);
            if (JpegFrame.Read(block) is { Progressive: true } frame)
            {
                largest = Math.Max(largest, frame.CoefficientBytes * 2);
            }
        }

        return largest;
    }

    private void RefuseBlocksTooBigToRead()
    {
        if (ReadsRows || BlockWorkBytes <= MaxBlockBytes)
        {
            return;
        }

        var block = Tiled ? $"tiles of {BlockWidth}×{BlockHeight} pixels" : $"strips of {BlockHeight} rows";
        throw new ImageRejectedException(Rejection.ImageTooLarge,
            $"This TIFF stores its pixels in {block}, which take {Math.Min(BlockWorkBytes, long.MaxValue / 16) >> 20} MB each to decode and cannot be read in smaller pieces; at most {MaxBlockBytes >> 20} MB per block are accepted. Save it with smaller tiles or strips.");
    }
}

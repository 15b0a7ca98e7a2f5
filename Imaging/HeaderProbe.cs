namespace ThumbnailApi.Imaging;

/// <summary>Step 2: sniff the format, read the header, and refuse bombs before anything is decoded.</summary>
public static class HeaderProbe
{
    /// <summary>
    /// Opens <paramref name="input"/> (seekable; read from its start; the caller still owns it, but may
    /// dispose it as soon as this returns) and checks it against <paramref name="limits"/>.
    /// </summary>
    /// <exception cref="ImageRejectedException">Unknown format, unreadable header or over a limit.</exception>
    public static SourceImage Open(Stream input, ImagingLimits limits, CancellationToken cancellation = default)
    {
        var bytes = EncodedInput.From(input);
        try
        {
            bytes = GifCodeSize.Normalise(bytes);
            return Open(bytes, limits, cancellation);
        }
        catch
        {
            bytes.Dispose();
            throw;
        }
    }

    private static SourceImage Open(EncodedInput bytes, ImagingLimits limits, CancellationToken cancellation)
    {
        var format = FormatSniffer.Sniff(bytes.Head(FormatSniffer.BytesNeeded)) ?? throw new ImageRejectedException(
            Rejection.UnsupportedFormat, "The file is not a PNG, JPEG, GIF, BMP, TIFF, WebP, HEIC or AVIF image.");
        if (format == ImageFormat.Jpeg)
        {
            using var stream = bytes.OpenStream();
            if (JpegFrame.UnsupportedVariant(stream) is { } variant)
            {
                throw new ImageRejectedException(Rejection.UnsupportedFormat, $"This is a {variant}, which is not supported: only 8-bit JPEGs are. Re-save it as an ordinary 8-bit JPEG or as PNG.");
            }

            EnforceScanLimit(stream, limits);
        }

        if (format == ImageFormat.Bmp)
        {
            BmpRunLength.EnsureRowsKeepToTheirWidth(bytes.Head((int)bytes.Length));
        }

        SourceImage image = format switch
        {
            ImageFormat.Tiff => TiffSource.Open(bytes, limits),
            ImageFormat.Heic or ImageFormat.Avif => HeifSource.Open(bytes, format),
            _ => SkiaSource.Open(bytes, format, cancellation),
        };
        try
        {
            EnforceLimits(image.Header, limits);
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads just the header and works out what making <paramref name="spec"/> from it will need: for
    /// the checks at upload time, and so the worker can reserve the memory before it opens the file.
    /// </summary>
    public static ImageInspection Inspect(Stream input, ThumbnailSpec spec, ImagingLimits limits, CancellationToken cancellation = default)
    {
        using var image = Open(input, limits, cancellation);
        var memory = image.MemoryBytes(ResizePlan.Create(image.Header, spec));
        EnforceMemoryLimit(memory, limits);
        return new ImageInspection(image.Header, memory);
    }

    /// <summary>
    /// Memory reading the header of a file of <paramref name="fileBytes"/> needs at most: the file
    /// itself and the codec's structures; for TIFF also LibTiff.NET's tables of strip offsets and
    /// sizes, which take up to twice the bytes they take in the file.
    /// </summary>
    public static long ProbeMemoryBytes(ImageFormat format, long fileBytes) =>
        (format == ImageFormat.Tiff ? 3 * fileBytes : fileBytes) + 8L * 1024 * 1024;

    /// <summary>Refuses an image whose thumbnail would need more memory than one task may have.</summary>
    public static void EnforceMemoryLimit(long memoryBytes, ImagingLimits limits)
    {
        if (memoryBytes > limits.MaxDecodeMemoryBytes)
        {
            throw new ImageRejectedException(Rejection.ImageTooLarge,
                $"Decoding this image would need about {Megabytes(memoryBytes)} MB of memory; the limit (MaxDecodeMemoryBytes) is {Megabytes(limits.MaxDecodeMemoryBytes)} MB. Send a smaller image, or one saved in a simpler way (not interlaced or progressive, 8 bits per sample).");
        }
    }

    private static long Megabytes(long bytes) => (bytes + (1 << 20) - 1) >> 20;

    internal static void EnforcePixelLimit(long width, long height, ImagingLimits limits)
    {
        if (width * height > limits.MaxPixels)
        {
            throw new ImageRejectedException(Rejection.ImageTooLarge,
                $"The image is {width}×{height} pixels; at most {limits.MaxPixels:N0} pixels are accepted.");
        }
    }

    /// <summary>A JPEG is counted at the size libjpeg decodes it at for a thumbnail (<see cref="JpegDecodedSize"/>).</summary>
    private static void EnforceJpegPixelLimit(long width, long height, ImagingLimits limits)
    {
        var (decodedWidth, decodedHeight) = JpegDecodedSize.Of(width, height);
        if (decodedWidth == width && decodedHeight == height)
        {
            EnforcePixelLimit(width, height, limits);
        }
        else if (decodedWidth * decodedHeight > limits.MaxPixels)
        {
            throw new ImageRejectedException(Rejection.ImageTooLarge,
                $"The JPEG is {width}×{height} pixels; even decoded at reduced size it needs {decodedWidth}×{decodedHeight}, and at most {limits.MaxPixels:N0} pixels are accepted.");
        }
    }

    private static void EnforceLimits(ImageHeader header, ImagingLimits limits)
    {
        if (header.Width <= 0 || header.Height <= 0)
        {
            throw ImageRejectedException.Corrupt($"the header declares a {header.Width}×{header.Height} picture");
        }

        if (header.Format == ImageFormat.Jpeg)
        {
            EnforceJpegPixelLimit(header.Width, header.Height, limits);
        }
        else
        {
            EnforcePixelLimit(header.Width, header.Height, limits);
        }

        if (header.Frames > limits.MaxFrames)
        {
            throw new ImageRejectedException(Rejection.ImageTooLarge,
                $"The image has {header.Frames} frames or pages; at most {limits.MaxFrames} are accepted.");
        }

        if (header.Frames * header.PixelCount > limits.MaxTotalPixels)
        {
            throw new ImageRejectedException(Rejection.ImageTooLarge,
                $"The image has {header.Frames} frames of {header.Width}×{header.Height} pixels; at most {limits.MaxTotalPixels:N0} pixels in all are accepted.");
        }
    }

    /// <summary>
    /// Refuses a JPEG with more scans than the limit, counted from its markers before libjpeg sees it:
    /// a small progressive file with thousands of scans makes libjpeg walk every block once per scan.
    /// </summary>
    private static void EnforceScanLimit(Stream input, ImagingLimits limits)
    {
        if (JpegFrame.CountScans(input, stopAbove: limits.MaxJpegScans) > limits.MaxJpegScans)
        {
            throw new ImageRejectedException(Rejection.ImageTooLarge,
                $"The JPEG has more than {limits.MaxJpegScans} scans (progressive passes), which makes it very slow to decode; at most {limits.MaxJpegScans} are accepted.");
        }
    }
}

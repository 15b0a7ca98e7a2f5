namespace ThumbnailApi.Imaging;

/// <summary>Step 2: sniff the format, read the header, and refuse bombs before anything is decoded.</summary>
public static class HeaderProbe
{
    /// <summary>
    /// Opens <paramref name="input"/> (seekable; read from its start; the caller still owns it, but may
    /// dispose it as soon as this returns) and checks it against <paramref name="limits"/>.
    /// </summary>
    /// <exception cref="ImageRejectedException">Unknown format, unreadable header or over a limit.</exception>
    public static SourceImage Open(Stream input, ImagingLimits limits)
    {
        var bytes = EncodedInput.From(input);
        try
        {
            return Open(bytes, limits);
        }
        catch
        {
            bytes.Dispose();
            throw;
        }
    }

    private static SourceImage Open(EncodedInput bytes, ImagingLimits limits)
    {
        var format = FormatSniffer.Sniff(bytes.Head(FormatSniffer.BytesNeeded)) ?? throw new ImageRejectedException(
            Rejection.UnsupportedFormat, "The file is not a PNG, JPEG, GIF, BMP, TIFF or WebP image.");
        if (format == ImageFormat.Tiff)
        {
            using var stream = bytes.OpenStream();
            if (TiffHeader.ReadSize(stream) is var (width, height))
            {
                EnforcePixelLimit(width, height, limits);
            }
        }

        if (format == ImageFormat.Jpeg)
        {
            using var stream = bytes.OpenStream();
            if (JpegFrame.UnsupportedVariant(stream) is { } variant)
            {
                throw new ImageRejectedException(Rejection.UnsupportedFormat, $"This {variant} is not supported: only 8-bit JPEGs are.");
            }

            EnforceScanLimit(stream, limits);
        }

        SourceImage image = format == ImageFormat.Tiff
            ? TiffSource.Open(bytes)
            : SkiaSource.Open(bytes, format);
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

    /// <summary>Reads just the header: for checks at upload time.</summary>
    public static ImageHeader Read(Stream input, ImagingLimits limits)
    {
        using var image = Open(input, limits);
        return image.Header;
    }

    private static void EnforcePixelLimit(long width, long height, ImagingLimits limits)
    {
        if (width * height > limits.MaxPixels)
        {
            throw new ImageRejectedException(Rejection.ImageTooLarge,
                $"The image is {width}×{height} pixels; at most {limits.MaxPixels:N0} pixels are accepted.");
        }
    }

    private static void EnforceLimits(ImageHeader header, ImagingLimits limits)
    {
        if (header.Width <= 0 || header.Height <= 0)
        {
            throw ImageRejectedException.Corrupt($"the header declares a {header.Width}×{header.Height} picture");
        }

        EnforcePixelLimit(header.Width, header.Height, limits);

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

using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>What the header says, read before any pixel is decoded.</summary>
public sealed record ImageHeader(ImageFormat Format, int Width, int Height, int Frames, SKEncodedOrigin Origin)
{
    /// <summary>True when the stored picture is shown rotated by 90° (EXIF/TIFF orientations 5–8).</summary>
    public bool SwapsAxes => Origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop
        or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    /// <summary>Width as a viewer shows it, after orientation.</summary>
    public int DisplayWidth => SwapsAxes ? Height : Width;

    /// <summary>Height as a viewer shows it, after orientation.</summary>
    public int DisplayHeight => SwapsAxes ? Width : Height;

    public long PixelCount => (long)Width * Height;

    /// <summary>
    /// True when the file says it has no alpha channel (set by decoders that know it up front: HEIC
    /// and AVIF); <c>auto</c> output is then JPEG for these photo formats.
    /// </summary>
    public bool Opaque { get; init; }
}

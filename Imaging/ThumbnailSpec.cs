namespace ThumbnailApi.Imaging;

/// <summary>How the picture is fitted into the requested box (the sharp vocabulary).</summary>
public enum FitMode
{
    /// <summary>Fill the box, centre-cropping what overflows.</summary>
    Cover,

    /// <summary>Fit inside the box and pad the rest (transparent, or white for JPEG).</summary>
    Contain,

    /// <summary>Fit inside the box without padding: one side may be smaller.</summary>
    Inside,

    /// <summary>Stretch to the box, ignoring the aspect ratio (what the original service did).</summary>
    Fill,
}

/// <summary>The encoding asked for; <see cref="Auto"/> keeps JPEG as JPEG and turns everything else into PNG.</summary>
public enum OutputFormat
{
    Auto,
    Png,
    Jpeg,
    WebP,
}

/// <summary>
/// What the client asked for: box size, fit, output format and, for JPEG and WebP output, the
/// encoder's quality (null: the format's default, <see cref="Encode.JpegQuality"/> or <see cref="Encode.WebPQuality"/>;
/// PNG is lossless and has none).
/// </summary>
public sealed record ThumbnailSpec(int Width = 100, int Height = 100, FitMode Fit = FitMode.Cover, OutputFormat Format = OutputFormat.Auto, int? Quality = null)
{
    public const int MaxSide = 1024;
    public const int MinQuality = 1;
    public const int MaxQuality = 100;

    public static ThumbnailSpec Default { get; } = new();

    /// <summary>
    /// The concrete encoding for an input: <c>auto</c> is JPEG for a JPEG, and for a HEIC or AVIF
    /// photo without alpha (lossy photo formats, like JPEG); PNG for everything else.
    /// </summary>
    public OutputFormat ResolveFormat(ImageHeader input) => Format switch
    {
        OutputFormat.Auto => input.Format == ImageFormat.Jpeg || (input.Format is ImageFormat.Heic or ImageFormat.Avif && input.Opaque)
            ? OutputFormat.Jpeg
            : OutputFormat.Png,
        _ => Format,
    };
}

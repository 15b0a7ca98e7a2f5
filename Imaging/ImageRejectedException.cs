namespace ThumbnailApi.Imaging;

/// <summary>Why an image cannot be thumbnailed. Each value maps to one stable API error code.</summary>
public enum Rejection
{
    /// <summary>The bytes are not one of the accepted formats, or a variant of one that no decoder here reads.</summary>
    UnsupportedFormat,

    /// <summary>The header cannot be read, or the pixel data is truncated or damaged.</summary>
    CorruptImage,

    /// <summary>The header declares more pixels or frames than the configured limits allow.</summary>
    ImageTooLarge,

    /// <summary>Processing ran past its deadline.</summary>
    Timeout,
}

/// <summary>The imaging pipeline's only exception: a typed refusal with a message a user can act on.</summary>
public sealed class ImageRejectedException(Rejection reason, string message) : Exception(message)
{
    public Rejection Reason { get; } = reason;

    /// <summary>The snake_case code used in API responses and in the task table.</summary>
    public string Code => Reason.Code();

    public static ImageRejectedException Corrupt(string detail) =>
        new(Rejection.CorruptImage, $"The image data is damaged or incomplete ({detail}).");
}

public static class RejectionCodes
{
    public static string Code(this Rejection reason) => reason switch
    {
        Rejection.UnsupportedFormat => "unsupported_format",
        Rejection.CorruptImage => "corrupt_image",
        Rejection.ImageTooLarge => "image_too_large",
        Rejection.Timeout => "processing_timeout",
        _ => throw new ArgumentOutOfRangeException(nameof(reason)),
    };
}

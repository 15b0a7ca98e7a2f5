namespace ThumbnailApi.Imaging;

/// <summary>The input formats the service accepts, decided from the bytes, never from a file name.</summary>
public enum ImageFormat
{
    Png,
    Jpeg,
    Gif,
    Bmp,
    Tiff,
    WebP,
    Heic,
    Avif,
}

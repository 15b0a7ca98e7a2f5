using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>
/// A decoded picture and how it relates to the original: <see cref="ScaleX"/> bitmap pixels per
/// original pixel (below 1 once the decoder or the box shrink reduced it). Owns the bitmap.
/// </summary>
public sealed record ScaledBitmap(SKBitmap Bitmap, double ScaleX, double ScaleY) : IDisposable
{
    public int Width => Bitmap.Width;

    public int Height => Bitmap.Height;

    public void Dispose() => Bitmap.Dispose();
}

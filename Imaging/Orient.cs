using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>Step 4: turn the stored pixels the way the EXIF or TIFF orientation says they are shown.</summary>
public static class Orient
{
    /// <summary>The picture as shown; the same instance when it needs no turning.</summary>
    public static unsafe ScaledBitmap Apply(ScaledBitmap stored, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or < SKEncodedOrigin.TopLeft or > SKEncodedOrigin.LeftBottom)
        {
            return stored;
        }

        var (width, height) = (stored.Width, stored.Height);
        var swaps = origin >= SKEncodedOrigin.LeftTop;
        var (outWidth, outHeight) = swaps ? (height, width) : (width, height);
        var result = new SKBitmap(SourceImage.WorkingInfo(outWidth, outHeight));

        var source = (uint*)stored.Bitmap.GetPixels();
        var sourceStride = stored.Bitmap.RowBytes / 4;
        var target = (uint*)result.GetPixels();
        var targetStride = result.RowBytes / 4;
        for (var y = 0; y < outHeight; y++)
        {
            var row = target + (long)y * targetStride;
            for (var x = 0; x < outWidth; x++)
            {
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (width - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (width - 1 - x, height - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, height - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, height - 1 - x),
                    SKEncodedOrigin.RightBottom => (width - 1 - y, height - 1 - x),
                    _ => (width - 1 - y, x), // LeftBottom
                };
                row[x] = source[(long)sy * sourceStride + sx];
            }
        }

        return swaps
            ? new ScaledBitmap(result, stored.ScaleY, stored.ScaleX)
            : new ScaledBitmap(result, stored.ScaleX, stored.ScaleY);
    }
}

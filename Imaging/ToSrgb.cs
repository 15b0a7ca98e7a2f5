using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>
/// Step 5: convert pixels that are still in an embedded profile's colour space to sRGB. Skia's codecs
/// do this while decoding (they decode into an sRGB <see cref="SourceImage.WorkingInfo"/>, so skcms
/// applies the profile); only TIFF, decoded by libtiff, reaches this step with other pixels. It runs on
/// the shrunk picture, as libvips' thumbnail does, so it costs next to nothing.
/// </summary>
public static class ToSrgb
{
    /// <summary>The picture in sRGB; the same instance when it is sRGB already.</summary>
    public static ScaledBitmap Apply(ScaledBitmap picture, SKColorSpace? colourSpace)
    {
        if (colourSpace is null || colourSpace.IsSrgb)
        {
            return picture;
        }

        var source = picture.Bitmap;
        var result = new SKBitmap(SourceImage.WorkingInfo(source.Width, source.Height));
        using var from = new SKPixmap(source.Info.WithColorSpace(colourSpace), source.GetPixels(), source.RowBytes);
        using var to = result.PeekPixels();
        if (!from.ReadPixels(to))
        {
            result.Dispose();
            throw new InvalidOperationException("Skia could not convert the picture to sRGB.");
        }

        return new ScaledBitmap(result, picture.ScaleX, picture.ScaleY);
    }
}

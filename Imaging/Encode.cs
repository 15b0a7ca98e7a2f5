using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>Step 8: encode the thumbnail. Skia writes no EXIF or other metadata, so nothing leaks from the upload.</summary>
public static class Encode
{
    public const int JpegQuality = 85;
    public const int WebPQuality = 82;

    public static EncodedThumbnail As(SKBitmap bitmap, OutputFormat format)
    {
        using var pixmap = bitmap.PeekPixels();
        using var data = format switch
        {
            OutputFormat.Jpeg => pixmap.Encode(new SKJpegEncoderOptions(JpegQuality, SKJpegEncoderDownsample.Downsample420, SKJpegEncoderAlphaOption.Ignore)),
            OutputFormat.WebP => pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossy, WebPQuality)),
            _ => pixmap.Encode(new SKPngEncoderOptions(SKPngEncoderFilterFlags.AllFilters, 6)),
        };
        var contentType = format switch
        {
            OutputFormat.Jpeg => "image/jpeg",
            OutputFormat.WebP => "image/webp",
            _ => "image/png",
        };
        if (data is null)
        {
            throw new InvalidOperationException($"Skia could not encode a {bitmap.Width}×{bitmap.Height} {format} thumbnail.");
        }

        return new EncodedThumbnail(data.ToArray(), bitmap.Width, bitmap.Height, contentType);
    }
}

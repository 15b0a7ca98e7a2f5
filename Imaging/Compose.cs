using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>
/// Step 7: place the resized picture on its canvas (padding for <see cref="FitMode.Contain"/>) and,
/// for JPEG, flatten transparency onto white: never black.
/// </summary>
public static class Compose
{
    public static SKBitmap OnCanvas(SKBitmap content, ResizePlan plan)
    {
        var opaque = plan.Format == OutputFormat.Jpeg;
        if (plan.Canvas == plan.Content && (!opaque || IsOpaque(content)))
        {
            return content;
        }

        var result = new SKBitmap(SourceImage.WorkingInfo(plan.Canvas.Width, plan.Canvas.Height));
        using var canvas = new SKCanvas(result);
        canvas.Clear(opaque ? SKColors.White : SKColors.Transparent);
        using var paint = new SKPaint { BlendMode = SKBlendMode.SrcOver };
        canvas.DrawBitmap(content, plan.Offset.X, plan.Offset.Y, SKSamplingOptions.Default, paint);
        return result;
    }

    private static unsafe bool IsOpaque(SKBitmap bitmap)
    {
        for (var y = 0; y < bitmap.Height; y++)
        {
            var row = (uint*)((byte*)bitmap.GetPixels() + (long)y * bitmap.RowBytes);
            for (var x = 0; x < bitmap.Width; x++)
            {
                if (row[x] >> 24 != 0xFF)
                {
                    return false;
                }
            }
        }

        return true;
    }
}

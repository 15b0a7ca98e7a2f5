using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>
/// The geometry of one thumbnail, worked out from the header alone: which part of the (oriented)
/// picture is shown, at what size, on what canvas, and how small the decoder may go.
/// </summary>
public sealed record ResizePlan(
    SKRect Region,
    SKSizeI Content,
    SKSizeI Canvas,
    SKPointI Offset,
    OutputFormat Format,
    SKSizeI MinDecode)
{
    /// <summary>How much of the reduction, at least, is left to the final Lanczos resample.</summary>
    public const double ResampleGap = 2;

    public static ResizePlan Create(ImageHeader header, ThumbnailSpec spec)
    {
        double width = header.DisplayWidth, height = header.DisplayHeight;
        var box = new SKSizeI(spec.Width, spec.Height);
        var region = new SKRect(0, 0, (float)width, (float)height);
        SKSizeI content, canvas;

        switch (spec.Fit)
        {
            case FitMode.Cover:
            {
                // As libvips does: resize the whole picture to whole pixels, then crop whole pixels from
                // its centre. The thumbnail's pixels then line up with the resized picture's instead of
                // sitting a fraction of a pixel off, which would soften it and shift it against references.
                var scale = Math.Max(box.Width / width, box.Height / height);
                var resizedWidth = Math.Max(box.Width, Math.Round(width * scale));
                var resizedHeight = Math.Max(box.Height, Math.Round(height * scale));
                var left = Math.Floor((resizedWidth - box.Width) / 2) / scale;
                var top = Math.Floor((resizedHeight - box.Height) / 2) / scale;
                region = new SKRect((float)left, (float)top, (float)(left + box.Width / scale), (float)(top + box.Height / scale));
                content = canvas = box;
                break;
            }

            case FitMode.Contain or FitMode.Inside:
            {
                var scale = Math.Min(box.Width / width, box.Height / height);
                content = new SKSizeI(Math.Clamp((int)Math.Round(width * scale), 1, box.Width),
                                      Math.Clamp((int)Math.Round(height * scale), 1, box.Height));
                canvas = spec.Fit == FitMode.Contain ? box : content;
                break;
            }

            default:
                content = canvas = box;
                break;
        }

        var offset = new SKPointI((canvas.Width - content.Width) / 2, (canvas.Height - content.Height) / 2);

        // Decoded size needed so that the shown region still has at least ResampleGap × Content pixels:
        // the decoder's scaling and the box shrink stop there and leave the rest to the Lanczos filter,
        // which suppresses the aliasing a box filter lets through (libvips leaves the same factor of 2).
        var minDisplay = new SKSizeI(CeilingOf(ResampleGap * width * content.Width / region.Width),
                                     CeilingOf(ResampleGap * height * content.Height / region.Height));
        var minDecode = header.SwapsAxes ? new SKSizeI(minDisplay.Height, minDisplay.Width) : minDisplay;

        return new ResizePlan(region, content, canvas, offset, spec.ResolveFormat(header), minDecode);
    }

    private static int CeilingOf(double value) => Math.Max(1, (int)Math.Ceiling(value - 1e-6));
}

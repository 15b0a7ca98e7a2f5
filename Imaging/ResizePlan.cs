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
                var scale = Math.Max(box.Width / width, box.Height / height);
                var (regionWidth, regionHeight) = (box.Width / scale, box.Height / scale);
                var left = (width - regionWidth) / 2;
                var top = (height - regionHeight) / 2;
                region = new SKRect((float)left, (float)top, (float)(left + regionWidth), (float)(top + regionHeight));
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

        // Decoded size needed so that the shown region still has at least Content pixels.
        var minDisplay = new SKSizeI(CeilingOf(width * content.Width / region.Width), CeilingOf(height * content.Height / region.Height));
        var minDecode = header.SwapsAxes ? new SKSizeI(minDisplay.Height, minDisplay.Width) : minDisplay;

        return new ResizePlan(region, content, canvas, offset, spec.ResolveFormat(header.Format), minDecode);
    }

    private static int CeilingOf(double value) => Math.Max(1, (int)Math.Ceiling(value - 1e-6));
}

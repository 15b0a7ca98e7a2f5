using SkiaSharp;

namespace ThumbnailApi.Tests.Support;

/// <summary>Simple pixel-wise differences between two decoded pictures of the same size.</summary>
public static class ImageDifference
{
    /// <summary>
    /// The largest difference of any premultiplied channel (R·A, G·A, B·A, A) at any pixel: the colour
    /// under a fully transparent pixel does not count.
    /// </summary>
    public static int MaxChannel(SKBitmap a, SKBitmap b)
    {
        Assert.That((a.Width, a.Height), Is.EqualTo((b.Width, b.Height)), "sizes differ");
        var max = 0;
        for (var y = 0; y < a.Height; y++)
        {
            for (var x = 0; x < a.Width; x++)
            {
                var p = Premultiplied(a.GetPixel(x, y));
                var q = Premultiplied(b.GetPixel(x, y));
                max = Math.Max(max, Math.Max(Math.Max(Math.Abs(p.Red - q.Red), Math.Abs(p.Green - q.Green)),
                                             Math.Max(Math.Abs(p.Blue - q.Blue), Math.Abs(p.Alpha - q.Alpha))));
            }
        }

        return max;
    }

    private static SKColor Premultiplied(SKColor c) =>
        new((byte)((c.Red * c.Alpha + 127) / 255), (byte)((c.Green * c.Alpha + 127) / 255), (byte)((c.Blue * c.Alpha + 127) / 255), c.Alpha);
}

using SkiaSharp;

namespace ThumbnailApi.Tests.Support;

/// <summary>Colour checks on decoded thumbnails.</summary>
public static class Pixels
{
    /// <summary>The average colour of a small square around (x, y), unpremultiplied.</summary>
    public static SKColor AverageAround(SKBitmap bitmap, int x, int y, int radius = 3)
    {
        long r = 0, g = 0, b = 0, a = 0, n = 0;
        for (var yy = Math.Max(0, y - radius); yy <= Math.Min(bitmap.Height - 1, y + radius); yy++)
        {
            for (var xx = Math.Max(0, x - radius); xx <= Math.Min(bitmap.Width - 1, x + radius); xx++)
            {
                var c = bitmap.GetPixel(xx, yy);
                r += c.Red;
                g += c.Green;
                b += c.Blue;
                a += c.Alpha;
                n++;
            }
        }

        return new SKColor((byte)(r / n), (byte)(g / n), (byte)(b / n), (byte)(a / n));
    }

    public static bool IsClose(SKColor actual, SKColor expected, int tolerance) =>
        Math.Abs(actual.Red - expected.Red) <= tolerance
        && Math.Abs(actual.Green - expected.Green) <= tolerance
        && Math.Abs(actual.Blue - expected.Blue) <= tolerance
        && Math.Abs(actual.Alpha - expected.Alpha) <= tolerance;
}

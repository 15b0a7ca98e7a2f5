using SkiaSharp;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// Structural similarity (Wang, Bovik, Sheikh and Simoncelli, 2004) of two pictures of the same size:
/// an 11×11 Gaussian window (σ = 1.5), K1 = 0.01, K2 = 0.03, L = 255, computed per channel on
/// premultiplied values (so colour under transparent pixels does not count) and averaged over the
/// channels: R, G and B, plus alpha when either picture has any transparency.
/// </summary>
public static class Ssim
{
    private const int Radius = 5;
    private const double Sigma = 1.5;
    private const double C1 = 0.01 * 255 * 0.01 * 255;
    private const double C2 = 0.03 * 255 * 0.03 * 255;

    public static double Compute(SKBitmap a, SKBitmap b)
    {
        Assert.That((a.Width, a.Height), Is.EqualTo((b.Width, b.Height)), "SSIM needs pictures of the same size");
        var (pa, pb) = (Planes(a), Planes(b));
        var channels = HasTransparency(pa) || HasTransparency(pb) ? 4 : 3;
        double total = 0;
        for (var c = 0; c < channels; c++)
        {
            total += Channel(pa[c], pb[c], a.Width, a.Height);
        }

        return total / channels;
    }

    private static double Channel(double[] x, double[] y, int width, int height)
    {
        var kernel = Gaussian();
        double sum = 0;
        var windows = 0;
        for (var cy = Radius; cy < height - Radius; cy++)
        {
            for (var cx = Radius; cx < width - Radius; cx++)
            {
                double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
                for (var dy = -Radius; dy <= Radius; dy++)
                {
                    for (var dx = -Radius; dx <= Radius; dx++)
                    {
                        var w = kernel[dy + Radius] * kernel[dx + Radius];
                        var i = (cy + dy) * width + cx + dx;
                        mx += w * x[i];
                        my += w * y[i];
                        xx += w * x[i] * x[i];
                        yy += w * y[i] * y[i];
                        xy += w * x[i] * y[i];
                    }
                }

                var (vx, vy, cov) = (xx - mx * mx, yy - my * my, xy - mx * my);
                sum += (2 * mx * my + C1) * (2 * cov + C2) / ((mx * mx + my * my + C1) * (vx + vy + C2));
                windows++;
            }
        }

        return sum / windows;
    }

    private static double[] Gaussian()
    {
        var kernel = new double[2 * Radius + 1];
        for (var i = -Radius; i <= Radius; i++)
        {
            kernel[i + Radius] = Math.Exp(-i * i / (2 * Sigma * Sigma));
        }

        var total = kernel.Sum();
        return kernel.Select(k => k / total).ToArray();
    }

    /// <summary>Premultiplied R, G, B and A planes.</summary>
    private static double[][] Planes(SKBitmap bitmap)
    {
        var planes = Enumerable.Range(0, 4).Select(_ => new double[bitmap.Width * bitmap.Height]).ToArray();
        for (var y = 0; y < bitmap.Height; y++)
        {
            for (var x = 0; x < bitmap.Width; x++)
            {
                var p = bitmap.GetPixel(x, y);
                var i = y * bitmap.Width + x;
                var alpha = p.Alpha / 255.0;
                planes[0][i] = p.Red * alpha;
                planes[1][i] = p.Green * alpha;
                planes[2][i] = p.Blue * alpha;
                planes[3][i] = p.Alpha;
            }
        }

        return planes;
    }

    private static bool HasTransparency(double[][] planes) => planes[3].Any(a => a < 255);
}

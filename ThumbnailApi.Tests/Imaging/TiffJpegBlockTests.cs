using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests.Imaging;

/// <summary>
/// JPEG strips and tiles in a TIFF look like the same picture stored without loss, whatever the
/// JPEG coding of each block (whole streams or abbreviated ones with JPEGTables, 1×1 or 2×2 YCbCr,
/// progressive with restart markers, arithmetic coding). Compared over the whole thumbnail, not only
/// at the quadrant centres: a block decoded wrong shows as a band or a tile anywhere.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class TiffJpegBlockTests
{
    private static readonly ThumbnailSpec Whole = new(160, 120, FitMode.Inside, OutputFormat.Png);

    [TestCase("tiff/jpeg.tif")]
    [TestCase("tiff/jpeg-tiled.tif")]
    [TestCase("tiff/jpeg-rgb.tif")]
    [TestCase("tiff/tiled-jpeg-ycbcr-1x1.tif")]
    [TestCase("tiff/tiled-jpeg-progressive-restart.tif")]
    [TestCase("tiff/tiled-jpeg-arithmetic.tif")]
    public void Every_jpeg_block_decodes_like_the_lossless_picture(string file)
    {
        using var thumbnail = Thumbnails.Of(file, Whole);
        using var lossless = Thumbnails.Of("tiff/none.tif", Whole);

        Assert.That(Ssim.Compute(thumbnail, lossless), Is.GreaterThanOrEqualTo(0.8), "the whole card, noisy frame included");
        Assert.That(WorstQuadrantPixel(thumbnail, lossless), Is.LessThanOrEqualTo(24), "every pixel of the flat quadrants");
    }

    /// <summary>The largest channel difference inside the four flat quadrants, away from the noisy frame and the quadrant edges (where chroma subsampling blurs).</summary>
    private static int WorstQuadrantPixel(SkiaSharp.SKBitmap a, SkiaSharp.SKBitmap b)
    {
        const int Margin = 12;
        var worst = 0;
        for (var y = Margin; y < a.Height - Margin; y++)
        {
            for (var x = Margin; x < a.Width - Margin; x++)
            {
                if (Math.Abs(x - a.Width / 2) < Margin / 2 || Math.Abs(y - a.Height / 2) < Margin / 2)
                {
                    continue;
                }

                var (p, q) = (a.GetPixel(x, y), b.GetPixel(x, y));
                worst = Math.Max(worst, Math.Max(Math.Abs(p.Red - q.Red), Math.Max(Math.Abs(p.Green - q.Green), Math.Abs(p.Blue - q.Blue))));
            }
        }

        return worst;
    }
}

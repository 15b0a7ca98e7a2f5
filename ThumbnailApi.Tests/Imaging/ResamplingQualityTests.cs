using SkiaSharp;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests.Imaging;

/// <summary>
/// Our 100×100 cover thumbnails against the libvips references in test_images/reference/
/// (vipsthumbnail, centre crop), and the fine patterns that catch aliasing, moiré and halos.
/// The SSIM figures are printed to the test output.
/// </summary>
[TestFixture]
public sealed class ResamplingQualityTests
{
    private static readonly string[] Patterns = ["patterns/zoneplate.png", "patterns/stripes.png", "patterns/checker-edges.png"];

    private static IEnumerable<CorpusEntry> Photos =>
        Corpus.Entries.Where(e => e.Reference is not null && !Patterns.Contains(e.File));

    [TestCaseSource(nameof(Photos))]
    public void A_photo_thumbnail_is_structurally_the_same_as_the_libvips_reference(CorpusEntry entry)
    {
        using var reference = ReferenceOf(entry);
        using var lossless = Thumbnails.Of(entry.File, ThumbnailSpec.Default with { Format = OutputFormat.Png });
        using var delivered = Thumbnails.Of(entry.File);

        var ssim = Ssim.Compute(lossless, reference);
        var ssimDelivered = Ssim.Compute(delivered, reference);
        TestContext.Out.WriteLine($"SSIM {entry.File} vs {entry.Reference}: {ssim:F4} (PNG output), {ssimDelivered:F4} (default output format)");

        Assert.That(ssim, Is.GreaterThanOrEqualTo(0.95));
        Assert.That(ssimDelivered, Is.GreaterThanOrEqualTo(0.95));
    }

    [Test]
    public void One_pixel_stripes_become_a_flat_mid_grey()
    {
        using var thumbnail = PatternThumbnail("patterns/stripes.png", out var ssim);
        var (min, max, mean) = GreyRange(thumbnail, 0, 0, thumbnail.Width, thumbnail.Height);
        TestContext.Out.WriteLine($"stripes: grey {min}..{max}, mean {mean:F1}; SSIM vs libvips {ssim:F4}");

        Assert.That(mean, Is.EqualTo(127.5).Within(3), "sRGB values average to mid grey (as libvips and Skia do)");
        Assert.That(max - min, Is.LessThanOrEqualTo(12), "no visible stripes: the libvips reference spans 122..133");
    }

    [Test]
    public void A_zone_plate_shows_no_moire_away_from_its_centre()
    {
        using var thumbnail = PatternThumbnail("patterns/zoneplate.png", out var ssim);
        var outer = new List<int>();
        for (var y = 0; y < thumbnail.Height; y++)
        {
            for (var x = 0; x < thumbnail.Width; x++)
            {
                if (Math.Sqrt((x - 49.5) * (x - 49.5) + (y - 49.5) * (y - 49.5)) > 35)
                {
                    outer.Add(thumbnail.GetPixel(x, y).Red);
                }
            }
        }

        TestContext.Out.WriteLine($"zoneplate: outside r=35 grey {outer.Min()}..{outer.Max()}; SSIM vs libvips {ssim:F4}");
        Assert.That(outer.Min(), Is.GreaterThanOrEqualTo(110), "rings far from the centre are aliasing (libvips: 116..138)");
        Assert.That(outer.Max(), Is.LessThanOrEqualTo(145), "rings far from the centre are aliasing (libvips: 116..138)");
    }

    [Test]
    public void Checker_edges_stay_sharp_without_dark_or_bright_halos()
    {
        using var thumbnail = PatternThumbnail("patterns/checker-edges.png", out var ssim);

        // 8×8 blocks of 12.5 px: block k spans [12.5k, 12.5(k+1)); its inner 7×7 pixels are away from any edge.
        var worst = 0;
        var transitions = new List<int>();
        for (var by = 0; by < 8; by++)
        {
            for (var bx = 0; bx < 8; bx++)
            {
                var level = (bx + by) % 2 == 0 ? 0 : 255;
                var (x0, y0) = ((int)Math.Ceiling(12.5 * bx) + 3, (int)Math.Ceiling(12.5 * by) + 3);
                var (min, max, _) = GreyRange(thumbnail, x0, y0, 7, 7);
                worst = Math.Max(worst, Math.Max(Math.Abs(min - level), Math.Abs(max - level)));
            }
        }

        // Across a vertical edge in the middle of a block row: how many pixels are neither black nor white.
        for (var k = 1; k < 8; k++)
        {
            var y = (int)(12.5 * 0.5);
            var edge = 12.5 * k;
            transitions.Add(Enumerable.Range((int)edge - 4, 8).Count(x => thumbnail.GetPixel(x, y).Red is > 16 and < 239));
        }

        TestContext.Out.WriteLine($"checker-edges: worst block interior deviation {worst}, widest transition {transitions.Max()} px; SSIM vs libvips {ssim:F4}");
        Assert.That(worst, Is.LessThanOrEqualTo(16), "block interiors stay black and white: no halo (libvips rings by up to ~15)");
        Assert.That(transitions.Max(), Is.LessThanOrEqualTo(3), "edges stay sharp");
        Assert.That(ssim, Is.GreaterThanOrEqualTo(0.95));
    }

    private static SKBitmap PatternThumbnail(string file, out double ssim)
    {
        var entry = Corpus.Entries.Single(e => e.File == file);
        var thumbnail = Thumbnails.Of(file);
        using var reference = ReferenceOf(entry);
        ssim = Ssim.Compute(thumbnail, reference);
        return thumbnail;
    }

    private static SKBitmap ReferenceOf(CorpusEntry entry) =>
        SKBitmap.Decode(TestImages.Path(entry.Reference!)).Copy(SKColorType.Rgba8888)
        ?? throw new AssertionException($"{entry.Reference} does not decode");

    private static (int Min, int Max, double Mean) GreyRange(SKBitmap bitmap, int x0, int y0, int width, int height)
    {
        var values = new List<int>();
        for (var y = y0; y < y0 + height; y++)
        {
            for (var x = x0; x < x0 + width; x++)
            {
                values.Add(bitmap.GetPixel(x, y).Red);
            }
        }

        return (values.Min(), values.Max(), values.Average());
    }
}

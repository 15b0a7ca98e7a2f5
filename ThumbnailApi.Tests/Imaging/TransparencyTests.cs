using SkiaSharp;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests.Imaging;

/// <summary>
/// Alpha is kept in PNG and WebP thumbnails and flattened onto white (never black, never the colour
/// hidden under transparent pixels) in JPEG ones; padding follows the same rule.
/// alpha.png: transparent background hiding cyan, a red disc, a green square, a blue triangle and a
/// half-transparent magenta band (rows 170–199 of 240).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class TransparencyTests
{
    [TestCase(OutputFormat.Png)]
    [TestCase(OutputFormat.WebP)]
    public void Png_and_webp_thumbnails_keep_transparency(OutputFormat format)
    {
        using var thumbnail = Thumbnails.Of("alpha.png", ThumbnailSpec.Default with { Format = format });

        Assert.Multiple(() =>
        {
            Assert.That((int)thumbnail.GetPixel(0, 0).Alpha, Is.LessThanOrEqualTo(2), "transparent corner");
            Assert.That((int)thumbnail.GetPixel(99, 99).Alpha, Is.LessThanOrEqualTo(2), "transparent corner");
            var band = Pixels.AverageAround(thumbnail, 50, 77, 1);
            Assert.That((int)band.Alpha, Is.EqualTo(128).Within(8), $"half-transparent band {band}");
            Assert.That(Pixels.IsClose(band, new SKColor(255, 0, 255, band.Alpha), 16), Is.True, $"band stays magenta: {band}");
            Assert.That(CyanPixels(thumbnail), Is.Zero, "the cyan stored under transparent pixels never shows");
        });
    }

    [TestCase("alpha.png")]
    [TestCase("webp/lossless-alpha.webp")]
    [TestCase("gif/transparent.gif")]
    [TestCase("png/rgba16.png")]
    [TestCase("tiff/rgba.tif")]
    [TestCase("bmp/rgba32.bmp")]
    public void Jpeg_thumbnails_are_flattened_onto_white_not_black(string file)
    {
        var thumbnail = Thumbnails.Encode(file, ThumbnailSpec.Default with { Format = OutputFormat.Jpeg });
        using var decoded = Thumbnails.Decode(thumbnail);

        Assert.That(thumbnail.ContentType, Is.EqualTo("image/jpeg"));
        var corner = Pixels.AverageAround(decoded, 1, 1, 1);
        Assert.That(Pixels.IsClose(corner, SKColors.White, 8), Is.True, $"transparent corner becomes white, got {corner}");
        Assert.That(CyanPixels(decoded), Is.Zero, "no hidden colour shows through");
    }

    [Test]
    public void A_half_transparent_area_is_blended_with_white_in_jpeg()
    {
        using var thumbnail = Thumbnails.Of("alpha.png", ThumbnailSpec.Default with { Format = OutputFormat.Jpeg });

        var band = Pixels.AverageAround(thumbnail, 50, 77, 1);
        Assert.That(Pixels.IsClose(band, new SKColor(255, 128, 255), 12), Is.True, $"magenta at alpha 128 over white, got {band}");
    }

    [TestCase(OutputFormat.Png, 0)]
    [TestCase(OutputFormat.WebP, 0)]
    public void Contain_pads_with_transparency_in_png_and_webp(OutputFormat format, int paddingAlpha)
    {
        using var thumbnail = Thumbnails.Of("quadrants.png", new ThumbnailSpec(100, 100, FitMode.Contain, format));

        Assert.That((thumbnail.Width, thumbnail.Height), Is.EqualTo((100, 100)));
        Assert.That((int)thumbnail.GetPixel(50, 2).Alpha, Is.EqualTo(paddingAlpha), "padding above the 100×75 picture");
        Assert.That((int)thumbnail.GetPixel(50, 97).Alpha, Is.EqualTo(paddingAlpha), "padding below the 100×75 picture");
        Assert.That(Pixels.IsClose(thumbnail.GetPixel(25, 30), SKColors.Red, 8), Is.True, "the picture itself");
    }

    [Test]
    public void Contain_pads_with_white_in_jpeg()
    {
        using var thumbnail = Thumbnails.Of("quadrants.png", new ThumbnailSpec(100, 100, FitMode.Contain, OutputFormat.Jpeg));

        Assert.That(Pixels.IsClose(Pixels.AverageAround(thumbnail, 50, 3, 1), SKColors.White, 6), Is.True, "padding above");
        Assert.That(Pixels.IsClose(Pixels.AverageAround(thumbnail, 50, 96, 1), SKColors.White, 6), Is.True, "padding below");
    }

    private static int CyanPixels(SKBitmap bitmap)
    {
        var count = 0;
        for (var y = 0; y < bitmap.Height; y++)
        {
            for (var x = 0; x < bitmap.Width; x++)
            {
                var p = bitmap.GetPixel(x, y);
                if (p.Alpha > 16 && p.Red < 80 && p.Green > 180 && p.Blue > 180)
                {
                    count++;
                }
            }
        }

        return count;
    }
}

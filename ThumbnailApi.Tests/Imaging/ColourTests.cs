using SkiaSharp;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests.Imaging;

/// <summary>
/// Colour: embedded ICC profiles are applied, CMYK and YCCK JPEGs (Adobe-inverted, with and without a
/// profile) come out with the right colours, and grey pictures stay grey, in every output format.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class ColourTests
{
    private static IEnumerable<TestCaseData> ManagedColourFiles =>
        from file in new[] { "colour/cmyk-adobe.jpg", "colour/ycck.jpg", "colour/cmyk-icc.jpg", "colour/p3.jpg", "tiff/p3.tif" }
        from format in new[] { OutputFormat.Auto, OutputFormat.WebP }
        select new TestCaseData(file, format);

    [TestCaseSource(nameof(ManagedColourFiles))]
    public void The_patches_have_their_colour_managed_srgb_values(string file, OutputFormat format)
    {
        var entry = Corpus.Entries.Single(e => e.File == file);
        using var thumbnail = Thumbnails.Of(file, new ThumbnailSpec(100, 100, FitMode.Inside, format));

        // Lossy output (JPEG, WebP) adds a little to the corpus tolerance.
        Quadrants.AssertShown(thumbnail, entry.Quadrants!, entry.Tolerance + 8, $"{file} as {format}");
    }

    [Test]
    public void A_cmyk_profile_gives_different_colours_from_the_naive_conversion()
    {
        using var managed = Thumbnails.Of("colour/cmyk-icc.jpg", ThumbnailSpec.Default with { Format = OutputFormat.Png });
        using var naive = Thumbnails.Of("colour/cmyk-adobe.jpg", ThumbnailSpec.Default with { Format = OutputFormat.Png });

        var (a, b) = (Thumbnails.Sample(managed, 0.75, 0.75), Thumbnails.Sample(naive, 0.75, 0.75));
        Assert.That(Math.Abs(a.Red - b.Red), Is.GreaterThan(40), $"K60 with the profile {a}, without {b}: the profile was applied");
    }

    [TestCase("colour/gray.jpg")]
    [TestCase("colour/gray-icc.jpg")]
    [TestCase("png/gray8.png")]
    [TestCase("png/gray16.png")]
    [TestCase("png/gray-4bit.png")]
    [TestCase("tiff/gray8.tif")]
    [TestCase("tiff/gray16.tif")]
    [TestCase("tiff/gray8-miniswhite.tif")]
    [TestCase("tiff/g4.tif")]
    public void A_grey_picture_stays_grey_in_every_output_format(string file)
    {
        foreach (var format in new[] { OutputFormat.Png, OutputFormat.Jpeg, OutputFormat.WebP })
        {
            using var thumbnail = Thumbnails.Of(file, ThumbnailSpec.Default with { Format = format });
            Assert.That(MostColourful(thumbnail), Is.LessThanOrEqualTo(format == OutputFormat.WebP ? 4 : 1), $"{file} as {format}");
        }
    }

    /// <summary>The largest difference between the channels of any pixel (0 for a perfectly grey picture).</summary>
    private static int MostColourful(SKBitmap bitmap)
    {
        var worst = 0;
        for (var y = 0; y < bitmap.Height; y++)
        {
            for (var x = 0; x < bitmap.Width; x++)
            {
                var p = bitmap.GetPixel(x, y);
                worst = Math.Max(worst, Math.Max(Math.Abs(p.Red - p.Green), Math.Max(Math.Abs(p.Green - p.Blue), Math.Abs(p.Red - p.Blue))));
            }
        }

        return worst;
    }
}

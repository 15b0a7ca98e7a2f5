using SkiaSharp;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests.Imaging;

/// <summary>
/// Every file of test_images/manifest.json through the pipeline in-process: decodable files give a
/// thumbnail whose quadrant centres have the colours the manifest names, rejected files give the
/// rejection code it names. PNG output, so what is measured is the decoding, not JPEG loss.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class CorpusTests
{
    private static readonly ThumbnailSpec Whole = new(100, 100, FitMode.Inside, OutputFormat.Png);

    private static IEnumerable<CorpusEntry> WithKnownColours => Corpus.WithKnownColours;

    private static IEnumerable<CorpusEntry> Refused => Corpus.OfKind("reject");

    private static IEnumerable<CorpusEntry> EitherWay => Corpus.OfKind("either");

    private static IEnumerable<CorpusEntry> SameAsAnother => Corpus.Entries.Where(e => e.SamePixelsAs is not null);

    private static IEnumerable<CorpusEntry> WithTransparentCorners => Corpus.Entries.Where(e => e.CornerAlpha is not null);

    [TestCaseSource(nameof(WithKnownColours))]
    public void A_sample_becomes_a_thumbnail_whose_quadrants_have_the_expected_colours(CorpusEntry entry)
    {
        using var thumbnail = Thumbnails.Of(entry.File, Whole);

        AssertShape(entry, thumbnail);
        AssertQuadrants(entry, thumbnail);
    }

    [TestCaseSource(nameof(Refused))]
    public void A_file_that_cannot_be_thumbnailed_is_refused_with_the_expected_code(CorpusEntry entry)
    {
        var rejection = Thumbnails.RejectionOf(entry.File, Whole);

        Assert.That(rejection.Code, Is.AnyOf(entry.Codes.ToArray()), rejection.Message);
    }

    [TestCaseSource(nameof(EitherWay))]
    public void A_borderline_file_gives_either_a_right_thumbnail_or_the_expected_code(CorpusEntry entry)
    {
        SKBitmap thumbnail;
        try
        {
            thumbnail = Thumbnails.Of(entry.File, Whole);
        }
        catch (ImageRejectedException rejected)
        {
            Assert.That(rejected.Code, Is.AnyOf(entry.Codes.ToArray()), rejected.Message);
            TestContext.Out.WriteLine($"{entry.File}: refused with {rejected.Code} ({rejected.Message})");
            return;
        }

        using (thumbnail)
        {
            TestContext.Out.WriteLine($"{entry.File}: thumbnail {thumbnail.Width}×{thumbnail.Height}");
            Assert.That(entry.Quadrants, Is.Not.Null, $"{entry.File} gave a thumbnail although it has no known picture to check");
            AssertShape(entry, thumbnail);
            AssertQuadrants(entry, thumbnail);
        }
    }

    [TestCaseSource(nameof(SameAsAnother))]
    public void A_file_storing_the_same_pixels_as_another_gives_the_same_thumbnail(CorpusEntry entry)
    {
        using var thumbnail = Thumbnails.Of(entry.File, ThumbnailSpec.Default with { Format = OutputFormat.Png });
        using var twin = Thumbnails.Of(entry.SamePixelsAs!, ThumbnailSpec.Default with { Format = OutputFormat.Png });

        if (Path.GetExtension(entry.File) == Path.GetExtension(entry.SamePixelsAs))
        {
            Assert.That(ImageDifference.MaxChannel(thumbnail, twin), Is.LessThanOrEqualTo(1), $"{entry.File} vs {entry.SamePixelsAs}");
        }
        else
        {
            // Decoders may shrink differently on the way (WebP's own scaler, JPEG's DCT scaling).
            Assert.That(Ssim.Compute(thumbnail, twin), Is.GreaterThanOrEqualTo(0.98), $"{entry.File} vs {entry.SamePixelsAs}");
        }
    }

    [TestCaseSource(nameof(WithTransparentCorners))]
    public void Transparency_survives_in_png_output(CorpusEntry entry)
    {
        using var thumbnail = Thumbnails.Of(entry.File, Whole);

        var corner = thumbnail.GetPixel(1, 1);
        Assert.That((int)corner.Alpha, Is.EqualTo(entry.CornerAlpha!.Value).Within(4), $"corner {corner}");
    }

    private static void AssertShape(CorpusEntry entry, SKBitmap thumbnail)
    {
        if (entry.Display is not var (width, height))
        {
            return;
        }

        var scale = Math.Min(100.0 / width, 100.0 / height);
        Assert.That((thumbnail.Width, thumbnail.Height), Is.EqualTo(((int)Math.Round(width * scale), (int)Math.Round(height * scale))),
            "thumbnail size (the displayed aspect ratio, after orientation)");
    }

    private static void AssertQuadrants(CorpusEntry entry, SKBitmap thumbnail)
    {
        if (entry.Quadrants is { } quadrants)
        {
            Quadrants.AssertShown(thumbnail, quadrants, entry.Tolerance, entry.File);
        }

        Assert.Multiple(() =>
        {
            foreach (var (corner, black) in entry.Bilevel ?? new Dictionary<string, bool>())
            {
                var (fx, fy) = Corpus.SamplePoints[corner];
                var colour = Thumbnails.Sample(thumbnail, fx, fy);
                Assert.That(black ? colour.Red <= 40 && colour.Alpha > 200 : colour.Red >= 215, Is.True,
                    $"{corner}: expected {(black ? "black" : "white")}, measured {Describe(colour)}");
            }
        });
    }

    private static string Describe(SKColor c) => c.Alpha == 255 ? $"({c.Red},{c.Green},{c.Blue})" : $"({c.Red},{c.Green},{c.Blue},a{c.Alpha})";
}

using SkiaSharp;
using ThumbnailApi.Imaging;
using ThumbnailApi.Imaging.Heif;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests.Imaging;

/// <summary>
/// HEIC and AVIF uploads, read through libheif: right way up, right colours, alpha kept, refused
/// cleanly when damaged. The samples and how they were made: test_images/heif/README.md. Without
/// libheif these tests are skipped with what to install (with CI=true they fail instead).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class HeifTests
{
    private const int Tolerance = 12;

    [OneTimeSetUp]
    public void RequireLibheif()
    {
        var support = HeifLibrary.Support;
        if (support is { Hevc: true, Av1: true })
        {
            return;
        }

        var reason = $"libheif with HEVC and AV1 decoders is not installed (found: {support.Version ?? "none"}), so HEIC/AVIF decoding is not tested: apt-get install -y libheif1 (.ci/run does).";
        if (Environment.GetEnvironmentVariable("CI") == "true")
        {
            Assert.Fail(reason);
        }

        Assert.Ignore(reason);
    }

    [TestCase("heif/card.heic")]
    [TestCase("heif/card.avif")]
    [TestCase("heif/card-10bit.heic")]
    [TestCase("heif/card-10bit.avif")]
    [TestCase("heif/grid.heic", TestName = "A grid (tiled) HEIC, as iPhones write, is put together whole")]
    [TestCase("heif/grid.avif")]
    [TestCase("heif/sequence.avif", TestName = "An AVIF sequence gives its first picture")]
    public void A_photo_becomes_a_JPEG_thumbnail_with_the_colours_where_they_belong(string file)
    {
        var thumbnail = Thumbnails.Encode(file);
        using var bitmap = Thumbnails.Decode(thumbnail);

        Assert.That(thumbnail.ContentType, Is.EqualTo("image/jpeg"), "auto: JPEG for a HEIC or AVIF photo without alpha");
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((100, 100)));
        Quadrants.AssertShown(bitmap, Quadrants.Upright, Tolerance, file);
    }

    [TestCase("heif/rotated-irot.heic")]
    [TestCase("heif/rotated-irot.avif")]
    [TestCase("heif/mirrored-imir.heic")]
    [TestCase("heif/mirrored-imir.avif")]
    [TestCase("heif/rotated-mirrored.heic")]
    public void A_picture_stored_turned_or_mirrored_comes_out_the_right_way_up(string file)
    {
        using var bitmap = Thumbnails.Of(file, ThumbnailSpec.Default with { Width = 160, Height = 120 });

        Quadrants.AssertShown(bitmap, Quadrants.Upright, Tolerance, file);
    }

    [TestCase("heif/rotated-irot.heic")]
    [TestCase("heif/rotated-irot.avif")]
    public void The_header_gives_the_size_after_rotation(string file)
    {
        using var input = File.OpenRead(TestImages.Path(file));
        var inspection = HeaderProbe.Inspect(input, ThumbnailSpec.Default, new ImagingLimits());

        Assert.That((inspection.Header.DisplayWidth, inspection.Header.DisplayHeight), Is.EqualTo((160, 120)));
    }

    [TestCase("heif/alpha.heic")]
    [TestCase("heif/alpha.avif")]
    public void Transparency_is_kept_in_a_PNG_thumbnail(string file)
    {
        var thumbnail = Thumbnails.Encode(file, ThumbnailSpec.Default with { Width = 160, Height = 120 });
        using var bitmap = Thumbnails.Decode(thumbnail);

        Assert.That(thumbnail.ContentType, Is.EqualTo("image/png"), "auto: PNG when the picture has alpha");
        Assert.That(bitmap.GetPixel(2, 2).Alpha, Is.Zero, "the transparent frame");
        Assert.That(bitmap.GetPixel(80, 60).Alpha, Is.EqualTo(255), "the opaque middle");
        Quadrants.AssertShown(bitmap, Quadrants.Upright, Tolerance, file);
    }

    [Test]
    public void A_stored_thumbnail_big_enough_for_the_box_is_decoded_instead_of_the_whole_picture()
    {
        var limits = new ImagingLimits();
        long MemoryFor(ThumbnailSpec spec)
        {
            using var input = File.OpenRead(TestImages.Path("heif/thumb.heic"));
            return HeaderProbe.Inspect(input, spec, limits).MemoryBytes;
        }

        var small = MemoryFor(ThumbnailSpec.Default);
        var large = MemoryFor(ThumbnailSpec.Default with { Width = 1024, Height = 768 });

        Assert.That(large - small, Is.GreaterThan(8L << 20), "1024×768 needs the whole picture; 100×100 only the stored 320×240 thumbnail");
        using var bitmap = Thumbnails.Of("heif/thumb.heic");
        Quadrants.AssertShown(bitmap, Quadrants.Upright, Tolerance, "thumb.heic");
    }

    [TestCase("heif/truncated.heic")]
    [TestCase("heif/truncated.avif")]
    [TestCase("heif/truncated-obu.avif")]
    [TestCase("heif/ftyp-only.heic")]
    public void A_damaged_file_is_refused_as_corrupt_image(string file)
    {
        var rejection = Thumbnails.RejectionOf(file);

        Assert.That(rejection.Code, Is.EqualTo("corrupt_image"), rejection.Message);
        Assert.That(rejection.Message, Does.Not.EndWith("\n").And.Not.Contain(")\n"));
    }

    [Test]
    public void A_HEIC_cut_inside_its_picture_data_never_shows_pixels_of_an_earlier_picture()
    {
        // libheif decodes it without an error; what it never decoded is whatever the decoder's memory
        // held. Decoded in a fresh process, that memory holds nothing of other pictures, so the
        // result is the same whatever was decoded before.
        var first = Thumbnails.Encode("heif/truncated-slice.heic", ThumbnailSpec.Default with { Format = OutputFormat.Png });
        foreach (var other in new[] { "heif/alpha.heic", "heif/card.heic", "heif/grid.heic", "heif/card-10bit.heic" })
        {
            Thumbnails.Encode(other);
        }

        var again = Thumbnails.Encode("heif/truncated-slice.heic", ThumbnailSpec.Default with { Format = OutputFormat.Png });

        Assert.That(again.Bytes, Is.EqualTo(first.Bytes));
    }

    [Test]
    public void A_HEIC_bigger_than_the_pixel_limit_is_refused_from_its_header()
    {
        var rejection = Thumbnails.RejectionOf(TestImages.Bytes("heif/thumb.heic"), limits: new ImagingLimits { MaxPixels = 500_000 });

        Assert.That(rejection.Code, Is.EqualTo("image_too_large"));
        Assert.That(rejection.Message, Does.Contain("1024×768"));
    }

    [TestCase("heif/card.heic", "image/heic")]
    [TestCase("heif/card.avif", "image/avif")]
    [TestCase("heif/sequence.avif", "image/avif")]
    public void The_format_is_told_from_the_bytes(string file, string mime)
    {
        var head = TestImages.Bytes(file).AsSpan(0, FormatSniffer.BytesNeeded);

        Assert.That(FormatSniffer.Sniff(head)?.MimeType(), Is.EqualTo(mime));
    }
}

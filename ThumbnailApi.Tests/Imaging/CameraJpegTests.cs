using SkiaSharp;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests.Imaging;

/// <summary>
/// The pixel limit counts what decoding costs: a JPEG is counted at the size libjpeg decodes it at
/// (DCT scaling, at least half per side), so a 102 MP medium-format photo passes while a JPEG header
/// of 30000×30000 is still refused before decoding.
/// </summary>
[TestFixture]
public sealed class CameraJpegTests
{
    [Test]
    public void A_medium_format_jpeg_of_12288_by_8192_becomes_a_thumbnail()
    {
        var jpeg = UniformJpeg(12288, 8192);

        using var thumbnail = Thumbnails.Decode(Thumbnails.Encode(jpeg, new ThumbnailSpec(300, 200, FitMode.Inside, OutputFormat.Png)));

        Assert.That((thumbnail.Width, thumbnail.Height), Is.EqualTo((300, 200)));
        Assert.That(thumbnail.GetPixel(150, 100).Red, Is.EqualTo(90).Within(3));
    }

    [Test]
    public void Its_header_passes_the_pixel_limit_because_it_is_counted_at_half_size()
    {
        using var input = new MemoryStream(UniformJpeg(12288, 8192));

        var inspection = HeaderProbe.Inspect(input, ThumbnailSpec.Default, new ImagingLimits());

        Assert.That((inspection.Header.Width, inspection.Header.Height), Is.EqualTo((12288, 8192)));
    }

    [Test]
    public void A_jpeg_header_of_30000_by_30000_is_still_refused_naming_the_reduced_size()
    {
        var rejection = Thumbnails.RejectionOf("damaged/bomb-30000.jpg");

        Assert.That(rejection.Code, Is.EqualTo("image_too_large"));
        Assert.That(rejection.Message, Does.Contain("30000×30000").And.Contain("15000×15000").And.Contain("100,000,000"));
    }

    [Test]
    public void With_a_lower_limit_the_message_names_the_size_it_counted()
    {
        var rejection = Thumbnails.RejectionOf(UniformJpeg(12288, 8192), spec: null, limits: new ImagingLimits { MaxPixels = 20_000_000 });

        Assert.That(rejection.Message, Does.Contain("6144×4096"), "counted at half size: 25 MP, over a 20 MP limit");
    }

    [TestCase(12288, 8192, 6144, 4096)]
    [TestCase(30000, 30000, 15000, 15000)]
    [TestCase(8192, 4000, 8192, 4000)] // halved, the short side (2000) would be under the 2048 a 1024-pixel cover thumbnail needs
    [TestCase(65535, 1000, 65535, 1000)]
    [TestCase(4097, 4097, 2049, 2049)]
    public void A_jpeg_is_counted_at_half_size_only_when_every_thumbnail_can_be_made_from_that(int width, int height, int countedWidth, int countedHeight)
    {
        Assert.That(JpegDecodedSize.Of(width, height), Is.EqualTo(((long)countedWidth, (long)countedHeight)));
    }

    /// <summary>A grey JPEG of the given size (level 90): a few hundred kilobytes, quick to encode.</summary>
    private static byte[] UniformJpeg(int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        bitmap.Erase(new SKColor(90, 90, 90));
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 80);
        return data.ToArray();
    }
}

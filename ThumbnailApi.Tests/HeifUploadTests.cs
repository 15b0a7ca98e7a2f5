using System.Net;
using ThumbnailApi.Imaging.Heif;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// HEIC and AVIF through the API: a thumbnail where the server has libheif, a 415 that says what to
/// install where it has not. Both outcomes are checked, whichever this machine is.
/// </summary>
[TestFixture]
public sealed class HeifUploadTests : OneServiceFixture
{
    [TestCase("heif/card.heic", "image/jpeg")]
    [TestCase("heif/card.avif", "image/jpeg")]
    [TestCase("heif/alpha.heic", "image/png")]
    public async Task A_HEIC_or_AVIF_upload_becomes_a_thumbnail_where_libheif_is_installed(string file, string expectedType)
    {
        if (!HeifLibrary.Support.Hevc || !HeifLibrary.Support.Av1)
        {
            Assert.Ignore("libheif with HEVC and AV1 is not installed here: the refusal is tested instead");
        }

        var (thumbnail, contentType) = await Client.ThumbnailOfAsync(TestImages.Path(file));
        using (thumbnail)
        {
            Assert.That(contentType, Is.EqualTo(expectedType));
            Assert.That((thumbnail.Width, thumbnail.Height), Is.EqualTo((100, 100)));
            Quadrants.AssertShown(thumbnail, Quadrants.Upright, 12, file);
        }
    }

    [TestCase("heif/card.heic")]
    [TestCase("heif/card.avif")]
    public async Task Without_libheif_a_HEIC_or_AVIF_upload_is_a_415_that_says_what_to_install(string file)
    {
        if (HeifLibrary.Support.Hevc && HeifLibrary.Support.Av1)
        {
            Assert.Ignore("libheif is installed here: the thumbnails are tested instead");
        }

        using var response = await Client.PostFileAsync(TestImages.Path(file));

        await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_format");
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("apt-get install libheif1"));
    }
}

using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests.Imaging;

/// <summary>
/// Thumbnails carry pixels only: no EXIF, XMP or comments from the upload, and no colour profile
/// (the pixels are sRGB, what every viewer assumes for an untagged image).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class OutputMetadataTests
{
    // orientation/exif-6.jpg carries EXIF; colour/p3.jpg an ICC profile and EXIF; png/srgb-iccp.png an iCCP chunk.
    private static readonly string[] WithMetadata = ["orientation/exif-6.jpg", "colour/p3.jpg", "png/srgb-iccp.png", "png/exif-6.png"];

    [TestCaseSource(nameof(WithMetadata))]
    public void A_png_thumbnail_has_only_image_data_chunks(string file)
    {
        var thumbnail = Thumbnails.Encode(file, ThumbnailSpec.Default with { Format = OutputFormat.Png });

        var chunks = ContainerChunks.Png(thumbnail.Bytes);
        Assert.That(chunks.Distinct(), Is.SubsetOf(new[] { "IHDR", "sBIT", "PLTE", "tRNS", "IDAT", "IEND" }), string.Join(",", chunks));
    }

    [TestCaseSource(nameof(WithMetadata))]
    public void A_jpeg_thumbnail_has_no_exif_profile_or_comment_segments(string file)
    {
        var thumbnail = Thumbnails.Encode(file, ThumbnailSpec.Default with { Format = OutputFormat.Jpeg });

        var markers = ContainerChunks.JpegMarkers(thumbnail.Bytes);
        Assert.That(markers.Distinct(), Is.SubsetOf(new[] { "E0", "DB", "C0", "C4", "DD", "DA" }), string.Join(",", markers));
    }

    [TestCaseSource(nameof(WithMetadata))]
    public void A_webp_thumbnail_has_no_exif_xmp_or_profile_chunks(string file)
    {
        var thumbnail = Thumbnails.Encode(file, ThumbnailSpec.Default with { Format = OutputFormat.WebP });

        var chunks = ContainerChunks.WebP(thumbnail.Bytes);
        Assert.That(chunks.Distinct(), Is.SubsetOf(new[] { "VP8 ", "VP8L", "VP8X", "ALPH" }), string.Join(",", chunks));
    }
}

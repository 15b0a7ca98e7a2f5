using SkiaSharp;
using LibTiff = BitMiracle.LibTiff.Classic;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests.Imaging;

/// <summary>The four fit modes on the 400×300 quadrants picture: sizes, crop, padding and stretch.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class FitTests
{
    [TestCase(FitMode.Cover, 100, 100, 100, 100)]
    [TestCase(FitMode.Contain, 100, 100, 100, 100)]
    [TestCase(FitMode.Inside, 100, 100, 100, 75)]
    [TestCase(FitMode.Fill, 100, 100, 100, 100)]
    [TestCase(FitMode.Cover, 300, 50, 300, 50)]
    [TestCase(FitMode.Inside, 300, 50, 67, 50)]
    [TestCase(FitMode.Inside, 1024, 1024, 1024, 768)]
    [TestCase(FitMode.Cover, 1, 1, 1, 1)]
    public void Each_fit_mode_gives_its_size(FitMode fit, int width, int height, int expectedWidth, int expectedHeight)
    {
        using var thumbnail = Thumbnails.Of("quadrants.png", new ThumbnailSpec(width, height, fit, OutputFormat.Png));

        Assert.That((thumbnail.Width, thumbnail.Height), Is.EqualTo((expectedWidth, expectedHeight)));
    }

    [Test]
    public void A_one_pixel_thumbnail_of_a_huge_white_picture_is_white_and_opaque()
    {
        // 9000 × 9000 into 1 × 1: the box shrink would average 4500 × 4500 pixels at once, more than
        // its 32-bit sums hold; it stops at its largest box and leaves the rest to the resampler.
        var tiff = WhiteBilevelTiff(9000, 9000);

        using var thumbnail = Thumbnails.Decode(Thumbnails.Encode(tiff, new ThumbnailSpec(1, 1, FitMode.Cover, OutputFormat.Png)));

        Assert.That(thumbnail.GetPixel(0, 0), Is.EqualTo(SKColors.White));
    }

    [Test]
    public void Cover_crops_the_centre_and_leaves_no_padding()
    {
        // 400×300 into 100×100: the middle 300×300 is shown, so the quadrants still meet in the centre.
        using var thumbnail = Thumbnails.Of("quadrants.png", new ThumbnailSpec(100, 100, FitMode.Cover, OutputFormat.Png));

        Quadrants.AssertShown(thumbnail, Quadrants.Upright, 4);
        Assert.That(Pixels.IsClose(thumbnail.GetPixel(0, 0), SKColors.Red, 4), Is.True, "corner is picture, not padding");
        Assert.That(Pixels.IsClose(thumbnail.GetPixel(99, 99), SKColors.Yellow, 4), Is.True, "corner is picture, not padding");
    }

    [Test]
    public void Fill_stretches_the_whole_picture_into_the_box()
    {
        using var thumbnail = Thumbnails.Of("quadrants.png", new ThumbnailSpec(60, 200, FitMode.Fill, OutputFormat.Png));

        Assert.That((thumbnail.Width, thumbnail.Height), Is.EqualTo((60, 200)));
        Quadrants.AssertShown(thumbnail, Quadrants.Upright, 4);
    }

    [Test]
    public void Contain_centres_the_picture_between_equal_bands_of_padding()
    {
        using var thumbnail = Thumbnails.Of("quadrants.png", new ThumbnailSpec(100, 100, FitMode.Contain, OutputFormat.Png));

        var firstPictureRow = Enumerable.Range(0, 100).First(y => thumbnail.GetPixel(50, y).Alpha > 128);
        var lastPictureRow = Enumerable.Range(0, 100).Last(y => thumbnail.GetPixel(50, y).Alpha > 128);
        Assert.That((firstPictureRow, lastPictureRow), Is.EqualTo((12, 86)), "a 100×75 picture from row 12");
    }

    [Test]
    public void A_small_picture_is_enlarged_to_the_box()
    {
        using var thumbnail = Thumbnails.Of("gif/animated.gif", new ThumbnailSpec(800, 600, FitMode.Cover, OutputFormat.Png));

        Assert.That((thumbnail.Width, thumbnail.Height), Is.EqualTo((800, 600)));
        Quadrants.AssertShown(thumbnail, Quadrants.Upright, 4);
    }

    [Test]
    public void The_first_frame_of_an_animated_gif_or_webp_and_the_first_page_of_a_tiff_are_used()
    {
        foreach (var file in new[] { "gif/animated.gif", "webp/animated.webp", "tiff/multipage.tif" })
        {
            using var thumbnail = Thumbnails.Of(file, new ThumbnailSpec(100, 100, FitMode.Inside, OutputFormat.Png));
            Quadrants.AssertShown(thumbnail, Quadrants.Upright, 4, file);
        }
    }

    /// <summary>A white 1-bit TIFF, Deflate-compressed in strips of 64 rows: a few KB for any size.</summary>
    private static byte[] WhiteBilevelTiff(int width, int height)
    {
        using var memory = new MemoryStream();
        using (var tiff = LibTiff.Tiff.ClientOpen("white", "w", memory, new LibTiff.TiffStream()))
        {
            tiff.SetField(LibTiff.TiffTag.IMAGEWIDTH, width);
            tiff.SetField(LibTiff.TiffTag.IMAGELENGTH, height);
            tiff.SetField(LibTiff.TiffTag.BITSPERSAMPLE, 1);
            tiff.SetField(LibTiff.TiffTag.SAMPLESPERPIXEL, 1);
            tiff.SetField(LibTiff.TiffTag.PHOTOMETRIC, LibTiff.Photometric.MINISWHITE);
            tiff.SetField(LibTiff.TiffTag.COMPRESSION, LibTiff.Compression.DEFLATE);
            tiff.SetField(LibTiff.TiffTag.ROWSPERSTRIP, 64);
            var row = new byte[(width + 7) / 8]; // 0 is white in a min-is-white picture
            for (var y = 0; y < height; y++)
            {
                tiff.WriteScanline(row, y);
            }
        }

        return memory.ToArray();
    }
}

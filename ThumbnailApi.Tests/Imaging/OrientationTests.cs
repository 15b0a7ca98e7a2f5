using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests.Imaging;

/// <summary>
/// All eight EXIF (JPEG) and TIFF orientation values, with the four-quadrant picture stored turned
/// the inverse way: every thumbnail must show red, green / blue, yellow, the right way up.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class OrientationTests
{
    private static IEnumerable<TestCaseData> Tagged =>
        Enumerable.Range(1, 8).SelectMany(n => new[]
        {
            new TestCaseData($"orientation/exif-{n}.jpg").SetArgDisplayNames($"JPEG EXIF orientation {n}"),
            new TestCaseData($"orientation/tiff-{n}.tif").SetArgDisplayNames($"TIFF Orientation tag {n}"),
        });

    [TestCaseSource(nameof(Tagged))]
    public void The_quadrants_are_the_right_way_up_in_a_wide_cover_thumbnail(string file)
    {
        using var thumbnail = Thumbnails.Of(file, new ThumbnailSpec(160, 90, FitMode.Cover, OutputFormat.Png));

        Assert.That((thumbnail.Width, thumbnail.Height), Is.EqualTo((160, 90)));
        Quadrants.AssertShown(thumbnail, Quadrants.Upright, tolerance: 12, file);
    }

    [TestCaseSource(nameof(Tagged))]
    public void The_thumbnail_has_the_displayed_aspect_ratio_and_the_quadrants_in_place_in_a_tall_box(string file)
    {
        using var thumbnail = Thumbnails.Of(file, new ThumbnailSpec(90, 200, FitMode.Inside, OutputFormat.Png));

        Assert.That((thumbnail.Width, thumbnail.Height), Is.EqualTo((90, 68)), "400×300 as displayed, fitted into 90×200");
        Quadrants.AssertShown(thumbnail, Quadrants.Upright, tolerance: 12, file);
    }

    [TestCase("png/exif-6.png")]
    [TestCase("webp/exif-6.webp")]
    [TestCase("webp/exif-6-prefixed.webp")]
    [TestCase("jpeg/exif-6-gray.jpg")]
    public void Exif_orientation_is_applied_in_png_webp_and_grey_jpeg_too(string file)
    {
        using var thumbnail = Thumbnails.Of(file, new ThumbnailSpec(100, 100, FitMode.Inside, OutputFormat.Png));

        Assert.That((thumbnail.Width, thumbnail.Height), Is.EqualTo((100, 75)));
        var expected = file.Contains("gray")
            ? Quadrants.Upright.ToDictionary(q => q.Key, q => Grey(q.Value))
            : Quadrants.Upright;
        Quadrants.AssertShown(thumbnail, expected, tolerance: 8, file);
    }

    private static SkiaSharp.SKColor Grey(SkiaSharp.SKColor c)
    {
        var level = (byte)Math.Round(0.299 * c.Red + 0.587 * c.Green + 0.114 * c.Blue);
        return new SkiaSharp.SKColor(level, level, level);
    }
}

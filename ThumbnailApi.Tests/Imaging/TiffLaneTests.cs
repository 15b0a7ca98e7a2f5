using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests.Imaging;

/// <summary>
/// LZW, Deflate and PackBits TIFFs are decoded on several cores, a band of strips per reader; the
/// picture must come out exactly as the same picture stored in one uncompressed strip (one reader).
/// </summary>
[TestFixture]
public sealed class TiffLaneTests
{
    [TestCase("tiff/lzw.tif")]
    [TestCase("tiff/deflate.tif")]
    [TestCase("tiff/packbits.tif")]
    public void A_tiff_decoded_on_several_cores_gives_the_same_thumbnail_as_one_reader(string file)
    {
        Assume.That(Environment.ProcessorCount, Is.GreaterThan(1), "one core decodes with one reader only");
        var spec = new ThumbnailSpec(120, 90, FitMode.Fill, OutputFormat.Png);

        using var parallel = Thumbnails.Of(file, spec);
        using var serial = Thumbnails.Of("tiff/none.tif", spec);

        Assert.That(parallel.Pixels, Is.EqualTo(serial.Pixels));
    }
}

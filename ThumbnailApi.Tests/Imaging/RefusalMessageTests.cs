using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests.Imaging;

/// <summary>
/// The message of a refusal is read by a person: it names the variant in plain words and the format
/// by its common name (never a MIME type, a bare compression number or libtiff's own wording), and
/// says what to do instead.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class RefusalMessageTests
{
    private const string SaveTiff = "save it as an 8- or 16-bit TIFF (uncompressed, LZW or Deflate), or as PNG or JPEG.";

    private static IEnumerable<TestCaseData> Named =>
    [
        new("tiff/lzma.tif", $"This TIFF is compressed with LZMA, which is not supported; {SaveTiff}"),
        new("tiff/zstd.tif", $"This TIFF is compressed with ZSTD (Zstandard), which is not supported; {SaveTiff}"),
        new("tiff/webp.tif", $"This TIFF is compressed with WebP, which is not supported; {SaveTiff}"),
        new("tiff/jbig.tif", $"This TIFF is compressed with JBIG, which is not supported; {SaveTiff}"),
        new("tiff/float32.tif", $"TIFF images with 32-bit floating-point samples are not supported (only 1, 2, 4, 8 and 16 bits); {SaveTiff}"),
        new("tiff/cmyk16.tif", $"This TIFF has CMYK with 16 bits per sample, which is not supported; {SaveTiff}"),
        new("bmp/rgba64.bmp", "This is a 64-bit BMP (16-bit channels in fixed point), which cannot be read here; re-save it as PNG or JPEG."),
        new("bmp/embedded-png.bmp", "This is a BMP that holds a PNG (meant for printers), which cannot be read here; re-save it as PNG or JPEG."),
        new("bmp/os2-huffman.bmp", "This is an OS/2 BMP with Huffman 1-D compression, which cannot be read here; re-save it as PNG or JPEG."),
        new("jpeg/precision-12.jpg", "This is a 12-bit JPEG, which is not supported: only 8-bit JPEGs are. Re-save it as an ordinary 8-bit JPEG or as PNG."),
        new("jpeg/lossless.jpg", "This is a lossless JPEG, which is not supported: only 8-bit JPEGs are. Re-save it as an ordinary 8-bit JPEG or as PNG."),
    ];

    private static IEnumerable<string> EveryUnsupportedVariant =>
        Corpus.OfKind("reject").Where(e => e.Codes.Contains("unsupported_format") && !e.File.StartsWith("disguised/")).Select(e => e.File);

    [TestCaseSource(nameof(Named))]
    public void An_unsupported_variant_is_named_in_plain_words(string file, string message)
    {
        var rejection = Thumbnails.RejectionOf(file);

        Assert.That((rejection.Code, rejection.Message), Is.EqualTo(("unsupported_format", message)));
    }

    [TestCaseSource(nameof(EveryUnsupportedVariant))]
    public void Every_unsupported_variant_message_uses_the_common_name_and_says_what_to_do(string file)
    {
        var message = Thumbnails.RejectionOf(file).Message;

        Assert.Multiple(() =>
        {
            Assert.That(message, Does.Not.Contain("image/"), "a MIME type");
            Assert.That(message, Does.Not.Contain("Sorry"), "libtiff's own words");
            Assert.That(message, Does.Not.Match(@"compression \d"), "a bare compression number");
            Assert.That(message, Does.Match("PNG|JPEG|GIF|BMP|TIFF|WebP"), "the format's name");
            Assert.That(message, Does.Match("(?i)save it"), "what to do");
        });
    }

    [Test]
    public void A_compression_without_a_name_still_reads_as_a_sentence()
    {
        var rejection = Thumbnails.RejectionOf(TiffWithCompression(TestImages.Path("tiff/none.tif"), 60000));

        Assert.That(rejection.Message, Does.StartWith("This TIFF is compressed with an unknown compression scheme (number 60000), which is not supported;"));
    }

    /// <summary>none.tif with its Compression tag (259, a SHORT in the first directory) set to <paramref name="code"/>.</summary>
    private static byte[] TiffWithCompression(string path, ushort code)
    {
        var bytes = File.ReadAllBytes(path);
        var directory = BitConverter.ToInt32(bytes, 4);
        var entries = BitConverter.ToUInt16(bytes, directory);
        for (var i = 0; i < entries; i++)
        {
            var at = directory + 2 + 12 * i;
            if (BitConverter.ToUInt16(bytes, at) == 259)
            {
                BitConverter.GetBytes(code).CopyTo(bytes, at + 8);
            }
        }

        return bytes;
    }
}

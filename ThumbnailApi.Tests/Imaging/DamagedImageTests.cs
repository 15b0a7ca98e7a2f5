using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests.Imaging;

/// <summary>
/// One rule for damaged data, the same in every decoder: a file that breaks off before its picture is
/// complete is refused as corrupt_image, never turned into a half-grey thumbnail.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class DamagedImageTests
{
    private static IEnumerable<string> CutShort => Corpus.Entries.Where(e => e.File.StartsWith("damaged/truncated")).Select(e => e.File);

    [TestCaseSource(nameof(CutShort))]
    public void A_file_cut_short_is_refused_as_corrupt_image(string file)
    {
        var rejection = Thumbnails.RejectionOf(file);

        Assert.That(rejection.Code, Is.EqualTo("corrupt_image"), rejection.Message);
    }

    [Test]
    public void Every_decoder_has_a_cut_short_sample()
    {
        var extensions = CutShort.Select(Path.GetExtension).ToHashSet();

        Assert.That(extensions, Is.SupersetOf(new[] { ".jpg", ".png", ".gif", ".bmp", ".tif", ".webp" }));
    }
}

using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// Damaged input straight through the imaging pipeline, in-process: whatever the bytes, the
/// pipeline makes a thumbnail or throws its own typed rejection. Nothing else escapes, nothing hangs.
/// </summary>
[TestFixture]
public sealed class PipelineFuzzTests
{
    private const int Seed = 20261129;

    /// <summary>Long enough for any honest case on a loaded machine; a hang is far beyond it.</summary>
    private static readonly TimeSpan HangAfter = TimeSpan.FromSeconds(20);

    private static readonly string[] SingleFramePhotos =
        ["photo.jpg", "photo-progressive.jpg", "alpha.png", "photo.gif", "photo.bmp", "photo.tif", "photo.webp"];

    [Test]
    public async Task Five_thousand_mutations_of_every_sample_file_end_in_a_thumbnail_or_a_typed_rejection()
    {
        var files = PipelineFuzzer.SampleFiles(TestImages.Folder);

        var report = await PipelineFuzzer.RunAsync(files, cases: 5000, Seed, HangAfter, new ImagingLimits());

        TestContext.Out.WriteLine(
            $"{report.Cases} cases over {files.Count} files in {report.Elapsed.TotalSeconds:F1} s: {report.Succeeded} thumbnails, " +
            $"{report.Rejected} rejected ({string.Join(", ", report.RejectionsByCode.Select(p => $"{p.Key} {p.Value}"))}); " +
            $"slowest {report.SlowestCase.TotalMilliseconds:F0} ms: {report.SlowestCaseName}");
        Assert.That(files, Has.Count.GreaterThan(100), "the whole test_images folder is used");
        Assert.That(report.Failures, Is.Empty, string.Join(Environment.NewLine, report.Failures.Take(20)));
        Assert.That(report.Succeeded, Is.GreaterThan(0), "some mutations still decode");
        Assert.That(report.RejectionsByCode.Keys, Is.SupersetOf(new[] { "corrupt_image", "unsupported_format", "image_too_large" }));
    }

    [Test]
    public void Every_sample_file_cut_at_every_tenth_of_its_length_ends_in_a_thumbnail_or_a_typed_rejection()
    {
        var pipeline = new ThumbnailPipeline(new ImagingLimits());
        var escaped = new List<string>();
        foreach (var path in PipelineFuzzer.SampleFiles(TestImages.Folder))
        {
            var bytes = File.ReadAllBytes(path);
            for (var tenth = 1; tenth <= 9; tenth++)
            {
                var cut = bytes[..(bytes.Length * tenth / 10)];
                try
                {
                    pipeline.Create(new MemoryStream(cut), ThumbnailSpec.Default);
                }
                catch (ImageRejectedException)
                {
                }
                catch (Exception other)
                {
                    escaped.Add($"{Path.GetFileName(path)} cut at {tenth}0 %: {other.GetType().Name}: {other.Message}");
                }
            }
        }

        Assert.That(escaped, Is.Empty);
    }

    [Test]
    public void A_single_frame_photo_cut_at_every_tenth_of_its_length_is_rejected_as_corrupt([ValueSource(nameof(SingleFramePhotos))] string file)
    {
        var pipeline = new ThumbnailPipeline(new ImagingLimits());
        var bytes = TestImages.Bytes(file);
        for (var tenth = 1; tenth <= 9; tenth++)
        {
            var cut = bytes[..(bytes.Length * tenth / 10)];

            var rejection = Assert.Throws<ImageRejectedException>(() => pipeline.Create(new MemoryStream(cut), ThumbnailSpec.Default),
                $"cut at {tenth}0 %");

            Assert.That(rejection!.Code, Is.EqualTo("corrupt_image"), $"cut at {tenth}0 %: {rejection.Message}");
        }
    }

    [Test]
    public void Random_bytes_written_over_the_middle_of_a_photo_give_a_thumbnail_or_corrupt_image([ValueSource(nameof(SingleFramePhotos))] string file)
    {
        var pipeline = new ThumbnailPipeline(new ImagingLimits());
        var original = TestImages.Bytes(file);
        var random = new Random(Seed);
        for (var round = 0; round < 40; round++)
        {
            var bytes = (byte[])original.Clone();
            var start = bytes.Length / 4 + random.Next(bytes.Length / 2);
            random.NextBytes(bytes.AsSpan(start, Math.Min(1 + random.Next(64), bytes.Length - start)));
            try
            {
                pipeline.Create(new MemoryStream(bytes), ThumbnailSpec.Default);
            }
            catch (ImageRejectedException rejection)
            {
                Assert.That(rejection.Code, Is.EqualTo("corrupt_image"), $"round {round}: {rejection.Message}");
            }
        }
    }
}

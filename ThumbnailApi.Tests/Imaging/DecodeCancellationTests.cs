using System.Diagnostics;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests.Imaging;

/// <summary>
/// Every decoder stops soon after its deadline fires, not when the picture is done: a cancelled
/// decode of a slow file ends long before the same decode left alone would. Both are timed in the
/// same test, so the comparison holds on a slow or busy machine. (WebP is the exception: libwebp
/// decodes in one call that cannot be interrupted; see the README.)
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class DecodeCancellationTests
{
    /// <summary>Room for the heaviest of these files, which the default budget refuses.</summary>
    private static readonly ImagingLimits Generous = new() { MaxDecodeMemoryBytes = 2L << 30, MaxJpegScans = 10_000 };

    [TestCase("hostile/resources/jpeg-progressive-10000x10000-90-scans.jpg", TestName = "A progressive JPEG stops inside libjpeg's pass over its scans")]
    [TestCase("hostile/resources/png-10000x10000-grey16-interlaced.png", TestName = "An interlaced PNG decoded a slice at a time stops between slices")]
    [TestCase("hostile/resources/tiff-10000x10000-8x16bit-strip.tif", TestName = "A TIFF strip read row by row stops between rows")]
    [TestCase("hostile/resources/tiff-10000x10000-rgba16-planar-strips.tif", TestName = "A planar TIFF read row by row, one reader per plane, stops between rows")]
    public void A_cancelled_decode_ends_long_before_the_whole_decode_would(string file)
    {
        var pipeline = new ThumbnailPipeline(Generous);
        var bytes = TestImages.Bytes(file);

        var before = TimeWholeDecode(pipeline, bytes);
        Assume.That(before, Is.GreaterThan(TimeSpan.FromMilliseconds(400)), "too fast here to tell stopping from finishing");

        using var deadline = new CancellationTokenSource(before / 10);
        var cancelled = Stopwatch.StartNew();
        Assert.That(() => pipeline.Create(new MemoryStream(bytes), ThumbnailSpec.Default, cancellation: deadline.Token),
            Throws.InstanceOf<OperationCanceledException>());
        cancelled.Stop();

        // Timed again after: on a machine whose load changes during the test, the slower of the two
        // whole decodes is what the cancelled one competed with.
        var whole = TimeSpan.FromTicks(Math.Max(before.Ticks, TimeWholeDecode(pipeline, bytes).Ticks));
        Assert.That(cancelled.Elapsed, Is.LessThan(whole / 2),
            $"the whole decode took {whole.TotalMilliseconds:F0} ms; cancelled after a tenth of that, it still ran {cancelled.Elapsed.TotalMilliseconds:F0} ms");
    }

    private static TimeSpan TimeWholeDecode(ThumbnailPipeline pipeline, byte[] bytes)
    {
        var whole = Stopwatch.StartNew();
        pipeline.Create(new MemoryStream(bytes), ThumbnailSpec.Default);
        return whole.Elapsed;
    }
}

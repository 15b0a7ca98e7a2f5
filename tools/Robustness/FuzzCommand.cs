using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Robustness;

/// <summary>The in-suite fuzz test's rule, for as many cases as asked: every case makes a thumbnail or a typed rejection.</summary>
public static class FuzzCommand
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var files = PipelineFuzzer.SampleFiles(arguments.Text("images"));
        var cases = arguments.Number("cases", 100_000);
        var seed = arguments.Number("seed", 1);
        Console.WriteLine($"fuzz: {cases:N0} cases over {files.Count} files, seed {seed}, {Environment.ProcessorCount} in parallel");

        var step = Math.Max(1, cases / 10);
        var report = await PipelineFuzzer.RunAsync(files, cases, seed, TimeSpan.FromSeconds(60), new ImagingLimits(),
            done => { if (done % step == 0) Console.WriteLine($"  {done:N0} cases done"); });

        Console.WriteLine($"fuzz: {report.Cases:N0} cases in {report.Elapsed.TotalSeconds:F0} s " +
                          $"({report.Cases / Math.Max(1, report.Elapsed.TotalSeconds):F0} per second)");
        Console.WriteLine($"  thumbnails: {report.Succeeded:N0}");
        Console.WriteLine($"  typed rejections: {report.Rejected:N0} ({string.Join(", ", report.RejectionsByCode.Select(p => $"{p.Key} {p.Value:N0}"))})");
        Console.WriteLine($"  slowest case: {report.SlowestCase.TotalMilliseconds:F0} ms, {report.SlowestCaseName}");
        Console.WriteLine($"  other exceptions or hangs: {report.Failures.Count}");
        foreach (var failure in report.Failures.Take(50))
        {
            Console.WriteLine($"    {failure.File} case {failure.Case} ({failure.Mutation}): {failure.Problem}");
        }

        return report.Failures.Count == 0 ? 0 : 1;
    }

    /// <summary>Runs one case again and keeps its bytes, to look at a failure.</summary>
    public static int Replay(Arguments arguments)
    {
        var files = PipelineFuzzer.SampleFiles(arguments.Text("images"));
        var file = files.Single(path => path.EndsWith(arguments.Text("file"), StringComparison.Ordinal));
        var (bytes, mutation) = ImageMutator.Mutate(File.ReadAllBytes(file), arguments.Number("seed", 1), arguments.Number("case", 0));
        File.WriteAllBytes("fuzz-case.bin", bytes);
        Console.WriteLine($"{Path.GetFileName(file)}: {mutation}; bytes saved to fuzz-case.bin");
        try
        {
            var thumbnail = new ThumbnailPipeline(new ImagingLimits()).Create(new MemoryStream(bytes), ThumbnailSpec.Default);
            Console.WriteLine($"thumbnail {thumbnail.Width}x{thumbnail.Height} {thumbnail.ContentType}");
        }
        catch (ImageRejectedException rejection)
        {
            Console.WriteLine($"rejected {rejection.Code}: {rejection.Message}");
        }

        return 0;
    }
}

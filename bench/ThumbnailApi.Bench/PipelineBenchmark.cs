using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ThumbnailApi.Imaging;

namespace ThumbnailApi.Bench;

/// <summary>
/// Per-file figures for the imaging pipeline: median and best time per thumbnail (after a warm-up),
/// managed bytes allocated per thumbnail, and the peak RSS of a process that does nothing else
/// (each file is measured in a child process so one file's peak does not hide another's).
/// </summary>
public static class PipelineBenchmark
{
    private sealed record Result(string File, double MedianMs, double BestMs, double AllocatedMb, double PeakRssMb, double BaselineRssMb, double EstimateMb);

    public static int Run(string[] args)
    {
        var (runs, files) = ParseRuns(args);
        var self = Environment.ProcessPath!;
        var selfArgs = Environment.GetCommandLineArgs()[0];
        Console.WriteLine($"| file | median ms | best ms | managed MB/image | peak RSS MB | RSS before MB | estimated MB |");
        Console.WriteLine($"|---|---:|---:|---:|---:|---:|---:|");
        foreach (var file in files)
        {
            var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
            if (!selfArgs.Equals(self, StringComparison.Ordinal) && selfArgs.EndsWith(".dll", StringComparison.Ordinal))
            {
                start.ArgumentList.Add(selfArgs); // running as `dotnet Bench.dll`
            }

            foreach (var argument in new[] { "one", "--runs", runs.ToString(CultureInfo.InvariantCulture), file })
            {
                start.ArgumentList.Add(argument);
            }

            using var child = Process.Start(start)!;
            var line = child.StandardOutput.ReadToEnd().Trim().Split('\n').Last();
            child.WaitForExit();
            var result = JsonSerializer.Deserialize<Result>(line)!;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {Path.GetFileName(file)} | {result.MedianMs:F1} | {result.BestMs:F1} | {result.AllocatedMb:F2} | {result.PeakRssMb:F0} | {result.BaselineRssMb:F0} | {result.EstimateMb:F0} |"));
        }

        return 0;
    }

    public static int RunOne(string[] args)
    {
        var (runs, files) = ParseRuns(args);
        var file = files.Single();
        var limits = new ImagingLimits { MaxDecodeMemoryBytes = long.MaxValue };
        var pipeline = new ThumbnailPipeline(limits);
        double estimateMb;
        try
        {
            using (var probe = File.OpenRead(file))
            {
                estimateMb = HeaderProbe.Inspect(probe, ThumbnailSpec.Default, limits).MemoryBytes / (1024.0 * 1024);
            }

            pipeline.Create(File.OpenRead(file), ThumbnailSpec.Default); // warm-up: JIT, Skia initialisation
        }
        catch (ImageRejectedException rejection)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Result($"{file}: {rejection.Code}", 0, 0, 0, Measure.PeakRssMb() ?? 0, 0, 0)));
            return 0;
        }

        GC.Collect();
        var baseline = Measure.RssMb() ?? 0;

        var times = new List<double>();
        long allocated = 0;
        for (var i = 0; i < runs; i++)
        {
            using var input = File.OpenRead(file);
            var before = GC.GetTotalAllocatedBytes(precise: true); // TIFF lanes allocate on other threads
            var started = Stopwatch.GetTimestamp();
            pipeline.Create(input, ThumbnailSpec.Default);
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            allocated += GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        times.Sort();
        Console.WriteLine(JsonSerializer.Serialize(new Result(file, Measure.Percentile(times, 50), times[0],
            allocated / (double)runs / (1024 * 1024), Measure.PeakRssMb() ?? 0, baseline, estimateMb)));
        return 0;
    }

    private static (int Runs, string[] Files) ParseRuns(string[] args) =>
        args is ["--runs", var n, .. var rest] ? (int.Parse(n, CultureInfo.InvariantCulture), rest) : (7, args);
}

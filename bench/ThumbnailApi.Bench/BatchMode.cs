using System.Diagnostics;
using System.Globalization;
using ThumbnailApi.Imaging;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Bench;

/// <summary>The command-line shapes bench/peers/bench_peers.sh drives: one file, or a batch in one process.</summary>
public static class BatchMode
{
    private static readonly ThumbnailPipeline Pipeline = new(new ImagingLimits());

    public static int Single(string input, string output)
    {
        var thumbnail = Pipeline.Create(File.OpenRead(input), ThumbnailSpec.Default);
        File.WriteAllBytes(output, thumbnail.Bytes);
        return 0;
    }

    /// <summary>Thumbnails every input (100×100 cover crop, like the peers) and prints the in-process time of each.</summary>
    public static int Batch(string outDir, string extension, IReadOnlyList<string> inputs)
    {
        var spec = ThumbnailSpec.Default with { Format = extension is "jpg" or "jpeg" ? OutputFormat.Jpeg : OutputFormat.Png };
        var times = new List<double>();
        foreach (var input in inputs)
        {
            var started = Stopwatch.GetTimestamp();
            var thumbnail = Pipeline.Create(File.OpenRead(input), spec);
            File.WriteAllBytes(Path.Combine(outDir, $"{Path.GetFileNameWithoutExtension(input)}.{TaskFiles.ExtensionFor(thumbnail.ContentType)}"), thumbnail.Bytes);
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        Console.WriteLine($"PERIMAGE_MS [{string.Join(", ", times.Select(t => t.ToString("F2", CultureInfo.InvariantCulture)))}]");
        return 0;
    }
}

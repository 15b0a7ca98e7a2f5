using System.Diagnostics;
using System.Globalization;
using ThumbnailApi.Imaging;

namespace ThumbnailApi.Bench;

/// <summary>
/// What the header check says of each file with the default limits, and how long it took: the memory
/// a 100×100 thumbnail would reserve, or the code it is refused with. Nothing is decoded.
/// </summary>
public static class InspectCommand
{
    public static int Run(string[] files)
    {
        var limits = new ImagingLimits();
        Console.WriteLine("| file | outcome | memory MB | check ms |");
        Console.WriteLine("|---|---|---:|---:|");
        foreach (var file in files)
        {
            var started = Stopwatch.GetTimestamp();
            string outcome, memory = "";
            try
            {
                using var input = File.OpenRead(file);
                var inspection = HeaderProbe.Inspect(input, ThumbnailSpec.Default, limits);
                outcome = $"{inspection.Header.Format} {inspection.Header.Width}×{inspection.Header.Height}, {inspection.Header.Frames} frame(s)";
                memory = (inspection.MemoryBytes / (1024.0 * 1024)).ToString("F0", CultureInfo.InvariantCulture);
            }
            catch (ImageRejectedException rejection)
            {
                outcome = $"{rejection.Code}: {rejection.Message}";
            }

            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {Path.GetFileName(file)} | {outcome} | {memory} | {ms:F0} |"));
        }

        return 0;
    }
}

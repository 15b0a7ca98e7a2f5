using System.Diagnostics;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Robustness;

/// <summary>
/// A burst: several times the queue capacity uploaded at the same moment to a real service process.
/// The rule: every answer is a 202 or a 503 queue_full with Retry-After (never another status), and
/// every 202 ends in SUCCESS. Prints the answers, the time to drain and the service's peak memory.
/// </summary>
public static class BurstCommand
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var samples = new SampleUploads(arguments.Text("images"));
        var capacity = arguments.Number("queue", 500);
        var total = capacity * arguments.Number("multiple", 4);
        var data = Directory.CreateTempSubdirectory("thumbnailapi-burst-").FullName;
        var settings = new Dictionary<string, string>
        {
            // Every upload comes from this one address, under the default per-client rate limit: it is
            // meant to let such a burst through to the queue, whose 503s are what is measured here.
            ["ThumbnailApi:QueueCapacity"] = capacity.ToString(),
        };
        using var service = await ServiceProcess.StartAsync(arguments.Text("service"), data, settings);
        using var client = new LoadClient(service.BaseAddress);
        var idle = service.PeakResidentBytes();
        Console.WriteLine($"burst: {total} uploads at once, queue capacity {capacity}, service pid {service.Id}, peak RSS after start {Mb(idle)}");

        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, total).Select(i => client.UploadAsync(samples[i].Bytes, samples[i].Name)));
        var answered = clock.Elapsed;
        var accepted = results.Where(r => r.Status == 202).Select(r => r.TaskId!).ToList();
        var refused = results.Where(r => r.Status == 503).ToList();
        var wellFormedRefusals = refused.Count(r => r.Code == "queue_full" && r.RetryAfter > TimeSpan.Zero);
        var other = results.Where(r => r.Status is not (202 or 503)).ToList();
        Console.WriteLine($"  answered in {answered.TotalSeconds:F1} s: {accepted.Count} x 202, {refused.Count} x 503 " +
                          $"({wellFormedRefusals} with queue_full and Retry-After), {other.Count} other");
        foreach (var group in other.GroupBy(r => $"{r.Status} {r.Code} {r.Failure}").Take(10))
        {
            Console.WriteLine($"    {group.Count()} x {group.Key}");
        }

        var final = await client.WaitForAllAsync(accepted, TimeSpan.FromMinutes(10));
        var drained = clock.Elapsed;
        var outcomes = final.Values.GroupBy(body => body?.GetProperty("task_status").GetString() ?? "unreachable")
            .ToDictionary(g => g.Key, g => g.Count());
        var peak = service.PeakResidentBytes();
        Console.WriteLine($"  all accepted tasks finished {drained.TotalSeconds:F1} s after the burst began: " +
                          string.Join(", ", outcomes.Select(p => $"{p.Value} {p.Key}")));
        Console.WriteLine($"  service peak RSS {Mb(peak)} (after start-up {Mb(idle)}); data folder {Mb(FolderBytes(data))}");

        service.Dispose();
        TempFolder.Delete(data);
        var ok = other.Count == 0 && wellFormedRefusals == refused.Count
                 && outcomes.GetValueOrDefault("SUCCESS") == accepted.Count && accepted.Count >= capacity;
        Console.WriteLine(ok ? "burst: OK" : "burst: BROKEN");
        return ok ? 0 : 1;
    }

    internal static string Mb(long bytes) => $"{bytes / (1024.0 * 1024):F0} MB";

    internal static long FolderBytes(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(path => new FileInfo(path).Length);
}

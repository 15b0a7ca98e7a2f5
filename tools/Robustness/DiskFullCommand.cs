using System.Diagnostics;
using Microsoft.Data.Sqlite;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Robustness;

/// <summary>
/// A real full disk: the service runs on a data folder on a small file system (tools/disk-full.sh
/// mounts a tmpfs), is loaded until the disk fills, and the file system is then grown. The rule:
/// uploads are answered 202 or 503 (storage_unavailable or queue_full), never 500; the process
/// stays up; every 202 ends SUCCESS or FAILED once there is room again; the database passes
/// integrity_check and no half-written thumbnail is left.
/// </summary>
public static class DiskFullCommand
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var data = arguments.Text("data");
        var grow = arguments.Text("grow");
        var samples = new SampleUploads(arguments.Text("images"));
        var uploads = arguments.Number("uploads", 300);
        var settings = new Dictionary<string, string> { ["ThumbnailApi:WorkerCount"] = "1", ["ThumbnailApi:RetryAfterSeconds"] = "1" };
        using var service = await ServiceProcess.StartAsync(arguments.Text("service"), data, settings);
        using var client = new LoadClient(service.BaseAddress);
        Console.WriteLine($"disk-full: {uploads} uploads (8 at a time) onto {data}");

        var results = new List<UploadResult>();
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next) - 1) < uploads)
            {
                var result = await client.UploadAsync(samples[i].Bytes, samples[i].Name);
                lock (results)
                {
                    results.Add(result);
                }
            }
        }));
        var answers = results.GroupBy(r => $"{r.Status} {r.Code ?? r.Failure}").OrderBy(g => g.Key).Select(g => $"{g.Count()} x {g.Key}");
        Console.WriteLine($"  answers while the disk filled: {string.Join(", ", answers)}");
        Console.WriteLine($"  service still running: {!service.HasExited}");

        Console.WriteLine($"  growing the file system: {grow}");
        using (var growing = Process.Start("/bin/sh", ["-c", grow]))
        {
            await growing.WaitForExitAsync();
        }

        var accepted = results.Where(r => r.Status == 202).Select(r => r.TaskId!).ToList();
        var final = await client.WaitForAllAsync(accepted, TimeSpan.FromMinutes(5));
        var outcomes = final.Values.GroupBy(body => body is { } b && b.TryGetProperty("task_status", out var s) ? s.GetString()! : "unknown")
            .ToDictionary(g => g.Key, g => g.Count());
        Console.WriteLine($"  the {accepted.Count} accepted tasks: {string.Join(", ", outcomes.Select(p => $"{p.Value} {p.Key}"))}");
        var again = await client.UploadAsync(samples[0].Bytes, samples[0].Name);
        Console.WriteLine($"  an upload after growing: {again.Status}");

        service.Dispose();
        var integrity = IntegrityCheck(data);
        var partial = Directory.GetFiles(Path.Combine(data, "thumbnails"), "*.partial").Length;
        Console.WriteLine($"  database integrity_check: {integrity}; half-written thumbnails: {partial}");

        var ok = results.All(r => r.Status is 202 or 503) && results.Any(r => r.Code == "storage_unavailable")
                 && outcomes.GetValueOrDefault("SUCCESS") + outcomes.GetValueOrDefault("FAILED") == accepted.Count
                 && again.Status == 202 && integrity == "ok" && partial == 0;
        Console.WriteLine(ok ? "disk-full: OK" : "disk-full: BROKEN");
        return ok ? 0 : 1;
    }

    private static string IntegrityCheck(string data)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(data, "thumbnails.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        return (string)command.ExecuteScalar()!;
    }
}

using System.Collections.Concurrent;
using System.Net;
using Microsoft.Data.Sqlite;
using SkiaSharp;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Robustness;

/// <summary>
/// SIGKILL in the middle of a load, then a restart on the same data folder, several times over.
/// The rule: every upload that got a 202 ends SUCCESS or FAILED (none is lost or left pending), and
/// every thumbnail served is whole (it decodes, at the size and byte count its status reports).
/// </summary>
public static class KillNineCommand
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var dll = arguments.Text("service");
        var samples = new SampleUploads(arguments.Text("images"));
        var uploads = arguments.Number("uploads", 300);
        var rounds = arguments.Number("rounds", 3);
        var data = Directory.CreateTempSubdirectory("thumbnailapi-kill9-").FullName;
        var settings = new Dictionary<string, string> { ["ThumbnailApi:WorkerCount"] = "1" };
        var accepted = new ConcurrentBag<string>();
        Console.WriteLine($"kill9: {rounds} round(s) of {uploads} uploads, SIGKILL when half are accepted; data folder {data}");

        for (var round = 1; round <= rounds; round++)
        {
            using var service = await ServiceProcess.StartAsync(dll, data, settings);
            using var client = new LoadClient(service.BaseAddress);
            var acceptedThisRound = 0;
            var killed = new TaskCompletionSource();
            var next = 0;
            var senders = Enumerable.Range(0, 8).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next) - 1) < uploads && !killed.Task.IsCompleted)
                {
                    var result = await client.UploadAsync(samples[i].Bytes, samples[i].Name);
                    if (result.Status == 202)
                    {
                        accepted.Add(result.TaskId!);
                        if (Interlocked.Increment(ref acceptedThisRound) == uploads / 2)
                        {
                            service.Kill();
                            killed.TrySetResult();
                        }
                    }
                }
            });
            await Task.WhenAll(senders);
            service.Kill();
            var (queued, processing, finished, partial) = Snapshot(data);
            Console.WriteLine($"  round {round}: SIGKILL sent at the {uploads / 2}th 202 ({acceptedThisRound} 202s in all); left behind: {queued} queued, " +
                              $"{processing} processing, {finished} finished, {partial} half-written thumbnail file(s)");
        }

        using (var service = await ServiceProcess.StartAsync(dll, data, settings))
        using (var client = new LoadClient(service.BaseAddress))
        {
            var final = await client.WaitForAllAsync(accepted.ToList(), TimeSpan.FromMinutes(5));
            var outcomes = final.Values.GroupBy(Outcome).ToDictionary(g => g.Key, g => g.Count());
            Console.WriteLine($"  after the last restart, the {accepted.Count} accepted tasks: " +
                              string.Join(", ", outcomes.Select(p => $"{p.Value} {p.Key}")));

            var broken = 0;
            foreach (var (id, body) in final.Where(pair => Outcome(pair.Value) == "SUCCESS"))
            {
                if (!await IsWholeAsync(client, id, body!.Value))
                {
                    broken++;
                }
            }

            var (_, _, _, partial) = Snapshot(data);
            var lost = accepted.Count - outcomes.GetValueOrDefault("SUCCESS") - outcomes.GetValueOrDefault("FAILED");
            Console.WriteLine($"  lost or still pending: {lost}; thumbnails that do not match their status: {broken}; " +
                              $"half-written files left after recovery: {partial}");
            service.Dispose();
            TempFolder.Delete(data);
            var ok = lost == 0 && broken == 0 && partial == 0;
            Console.WriteLine(ok ? "kill9: OK" : "kill9: BROKEN");
            return ok ? 0 : 1;
        }
    }

    private static string Outcome(System.Text.Json.JsonElement? body) =>
        body?.TryGetProperty("task_status", out var status) == true ? status.GetString()! : "unknown";

    /// <summary>Downloads the thumbnail and checks it is the whole file the status describes.</summary>
    private static async Task<bool> IsWholeAsync(LoadClient client, string id, System.Text.Json.JsonElement status)
    {
        var image = status.GetProperty("image");
        var (code, contentType, bytes) = await client.DownloadAsync(id);
        using var bitmap = SKBitmap.Decode(bytes);
        var whole = code == HttpStatusCode.OK
                    && contentType == image.GetProperty("content_type").GetString()
                    && bytes.Length == image.GetProperty("size_bytes").GetInt64()
                    && bitmap is not null
                    && bitmap.Width == image.GetProperty("width").GetInt32()
                    && bitmap.Height == image.GetProperty("height").GetInt32();
        if (!whole)
        {
            Console.WriteLine($"    task {id}: thumbnail does not match its status ({code}, {bytes.Length} bytes)");
        }

        return whole;
    }

    /// <summary>What the killed process left: task states from its database, and *.partial files.</summary>
    private static (long Queued, long Processing, long Finished, int Partial) Snapshot(string data)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(data, "thumbnails.db")}");
        connection.Open();
        long Count(string where)
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT COUNT(*) FROM tasks WHERE {where}";
            return (long)command.ExecuteScalar()!;
        }

        var partial = Directory.Exists(Path.Combine(data, "thumbnails"))
            ? Directory.GetFiles(Path.Combine(data, "thumbnails"), "*.partial").Length
            : 0;
        return (Count("state = 'queued'"), Count("state = 'processing'"), Count("state IN ('succeeded', 'failed')"), partial);
    }
}

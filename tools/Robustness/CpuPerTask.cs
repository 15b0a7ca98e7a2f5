using System.Diagnostics;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Robustness;

/// <summary>
/// CPU per task of one instance, in SQLite or PostgreSQL mode, on the same work: copies of the 640x480
/// photo (each with its own JPEG comment, and reuse of identical uploads off), uploaded a few at once
/// and each long-polled to its end, as a client would. After a warm-up (JIT, pools, caches), the
/// service process's utime + stime over the measured uploads, divided by their count; also, once
/// quiet for 15 s, what the process uses idle per minute (background work: in PostgreSQL mode the
/// listener's heartbeat, the reaper, the workers' fallback polls and idle reports) and, in PostgreSQL
/// mode, the database server's own CPU per task.
/// </summary>
public static class CpuPerTask
{
    public sealed record Round(string Mode, int Number, int Tasks, double CpuSeconds, double WallSeconds, double IdleCpuPerMinute, double? ServerCpuSeconds, int NotSucceeded)
    {
        public double CpuMsPerTask => CpuSeconds * 1000 / Tasks;
    }

    /// <summary>One round; with <paramref name="idleSeconds"/> above 0, the idle CPU is measured after it (once quiet for 15 s), else reported as NaN.</summary>
    public static async Task<Round> MeasureAsync(
        string mode, int number, PostgresServer server, string dll, string images, int warmUp, int uploads, int concurrency, int idleSeconds)
    {
        var settings = new Dictionary<string, string> { ["ThumbnailApi:ReuseIdenticalUploads"] = "false" };
        var photo = File.ReadAllBytes(Path.Combine(images, "photo.jpg"));
        ScaledOutCluster? cluster = null;
        string? folder = null;
        ServiceProcess process;
        if (mode == "postgres")
        {
            cluster = await ScaledOutCluster.CreateAsync(server, dll, settings);
            process = (await cluster.StartInstanceAsync()).Process;
        }
        else
        {
            folder = Directory.CreateTempSubdirectory("thumbnailapi-cpu-").FullName;
            process = await ServiceProcess.StartAsync(dll, folder, settings);
        }

        try
        {
            using var client = new LoadClient(process.BaseAddress);
            await RunAsync(client, photo, warmUp, concurrency, $"{mode} warm-up");
            await Task.Delay(TimeSpan.FromSeconds(5)); // the warm-up's background JIT and GC settle

            var cpuFrom = ProcessCpu.Seconds(process.Id);
            var serverFrom = cluster is null ? 0 : ProcessCpu.TreeSeconds(server.Pid);
            var clock = Stopwatch.StartNew();
            var notSucceeded = await RunAsync(client, photo, uploads, concurrency, $"{mode} round {number}");
            var wall = clock.Elapsed.TotalSeconds;
            var cpu = ProcessCpu.Seconds(process.Id) - cpuFrom;
            double? serverCpu = cluster is null ? null : ProcessCpu.TreeSeconds(server.Pid) - serverFrom;

            var idlePerMinute = double.NaN;
            if (idleSeconds > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(15));
                var idleFrom = ProcessCpu.Seconds(process.Id);
                await Task.Delay(TimeSpan.FromSeconds(idleSeconds));
                idlePerMinute = (ProcessCpu.Seconds(process.Id) - idleFrom) * 60 / idleSeconds;
            }

            return new Round(mode, number, uploads, cpu, wall, idlePerMinute, serverCpu, notSucceeded);
        }
        finally
        {
            if (cluster is not null)
            {
                await cluster.DisposeAsync();
            }
            else
            {
                process.Dispose();
                TempFolder.Delete(folder!);
            }
        }
    }

    /// <summary>Uploads <paramref name="count"/> copies, <paramref name="concurrency"/> at a time, each followed to its end; returns how many did not end SUCCESS.</summary>
    private static async Task<int> RunAsync(LoadClient client, byte[] photo, int count, int concurrency, string tag)
    {
        var next = -1;
        var notSucceeded = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < count)
            {
                var upload = await client.UploadAsync(UniqueJpeg.Of(photo, $"{tag} {index}"), "photo.jpg");
                var (_, body) = upload.TaskId is { } id ? await client.FollowAsync(id, TimeSpan.FromSeconds(60)) : (0, null);
                if (body?.GetProperty("task_status").GetString() != "SUCCESS")
                {
                    Interlocked.Increment(ref notSucceeded);
                }
            }
        }));
        return notSucceeded;
    }
}

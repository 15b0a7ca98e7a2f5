using System.Globalization;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Robustness;

/// <summary>
/// The scaled-out service measured by hand (tools/scale-out.sh): a throwaway PostgreSQL server
/// (loopback only, stopped by its PID at the end), published instances of the service on it, nginx
/// with the committed config. Prints, under the CPU model and the date: idle pick-up and long-poll
/// wake-up latency across instances, time from SIGKILL to a dead instance's tasks finishing elsewhere
/// (with the given lease and a short one), CPU per task in PostgreSQL and SQLite mode, and the chaos
/// run's counts (ChaosTests' scenario, bigger). Exits non-zero when the chaos run breaks a rule or
/// the PostgreSQL CPU overhead is 10 % or more.
/// </summary>
public static class ScaleOutCommand
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var dll = arguments.Text("service");
        var images = arguments.Text("images");
        var quick = arguments.Flag("quick");
        var instances = arguments.Number("instances", 3);
        var uploads = arguments.Number("uploads", quick ? 300 : 1000);
        var concurrency = arguments.Number("concurrency", quick ? 8 : 16);
        var lease = arguments.Number("lease", 15);
        var shortLease = arguments.Number("short-lease", 4);
        var samples = arguments.Number("samples", quick ? 20 : 50);
        var rounds = arguments.Number("rounds", quick ? 1 : 3);
        var cpuUploads = arguments.Number("cpu-uploads", quick ? 100 : 300);
        var cpuRounds = arguments.Number("cpu-rounds", quick ? 1 : 3);
        var sections = arguments.Text("sections", "latency,kill,cpu,chaos").Split(',').ToHashSet();

        var bin = PostgresBinaries.Find() ?? throw new InvalidOperationException("PostgreSQL is not installed: apt-get install postgresql");
        Console.WriteLine($"scale-out, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {CpuModel()} ({Environment.ProcessorCount} cores), "
                          + $"{FirstLine(await ExternalCommand.RunAsync(Path.Combine(bin, "postgres"), ["--version"], TimeSpan.FromSeconds(10)))}, "
                          + $"{FirstLine(await ExternalCommand.RunAsync(NginxProxy.Program, ["-v"], TimeSpan.FromSeconds(10)))}, .NET {Environment.Version}");
        Console.WriteLine($"options: --instances {instances} --uploads {uploads} --concurrency {concurrency} --lease {lease} --short-lease {shortLease} "
                          + $"--samples {samples} --rounds {rounds} --cpu-uploads {cpuUploads} --cpu-rounds {cpuRounds} --sections {string.Join(',', sections)}{(quick ? " --quick" : "")}");

        var server = await PostgresServer.StartAsync();
        try
        {
            var figures = new List<(string Figure, string Value)>();
            var ok = true;

            if (sections.Contains("latency"))
            {
                Console.WriteLine($"1. Across instances (A: 1 worker, kept busy; B: 2 idle workers; lease {lease} s)");
                var latency = await CrossInstanceLatency.MeasureAsync(server, dll, images, lease, samples, Math.Max(10, samples / 2));
                Console.WriteLine($"  idle pick-up, upload to A claimed by B: created_at → started_at {Percentiles.Describe(latency.PickUpMs)}; taken by A instead: {latency.PickedUpByA}");
                Console.WriteLine($"  long-poll wake-up, long-poll on A for a task done by B: completed_at → answer {Percentiles.Describe(latency.WakeMs)}; "
                                  + $"not counted (done before the long-poll was sent): {latency.WakeDiscarded}");
                figures.Add(("idle pick-up (upload to busy A, claimed by idle B): created_at → started_at", Percentiles.Describe(latency.PickUpMs)));
                figures.Add(("long-poll wake-up (long-poll on A, task done on B): completed_at → answer", Percentiles.Describe(latency.WakeMs)));
            }

            if (sections.Contains("kill"))
            {
                Console.WriteLine($"2. SIGKILL of an instance holding 2 tasks → those tasks finished by another ({rounds} round(s) per lease)");
                foreach (var seconds in new[] { lease, shortLease }.Distinct())
                {
                    var kills = await KillRecoveryTime.MeasureAsync(server, dll, images, seconds, rounds, Console.WriteLine);
                    var done = kills.Where(kill => kill.FinishedBySurvivor && kill.Attempts == 2).Select(kill => kill.FinishedSeconds).ToList();
                    var value = done.Count == 0 ? "none finished" : string.Create(CultureInfo.InvariantCulture,
                        $"{done.Min():F1} – {done.Max():F1} s, median {Percentiles.Of(done, 50):F1} s (n {done.Count}{(done.Count < kills.Count ? $" of {kills.Count}" : "")}; expected {seconds * 2 / 3.0:F1} – {seconds * 1.5:F1} s)");
                    Console.WriteLine($"  lease {seconds} s: {value}");
                    figures.Add(($"SIGKILL → held tasks done elsewhere, lease {seconds} s", value));
                }
            }

            if (sections.Contains("cpu"))
            {
                Console.WriteLine($"3. CPU per task, one instance, {cpuUploads} unique 640x480 JPEGs after a warm-up, 4 at a time, reuse off");
                Console.WriteLine("  | mode | round | tasks | CPU ms/task | CPU s | wall s | tasks/s | idle CPU ms/min | PostgreSQL server CPU ms/task | not SUCCESS |");
                Console.WriteLine("  |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
                var cpu = new List<CpuPerTask.Round>();
                for (var round = 1; round <= cpuRounds; round++)
                {
                    foreach (var mode in new[] { "sqlite", "postgres" })
                    {
                        var measured = await CpuPerTask.MeasureAsync(mode, round, server, dll, images, quick ? 30 : 60, cpuUploads, 4, round == 1 ? (quick ? 10 : 30) : 0);
                        cpu.Add(measured);
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  | {mode} | {round} | {measured.Tasks} | {measured.CpuMsPerTask:F1} | {measured.CpuSeconds:F2} | {measured.WallSeconds:F1} | {measured.Tasks / measured.WallSeconds:F1} | {(double.IsNaN(measured.IdleCpuPerMinute) ? "—" : (measured.IdleCpuPerMinute * 1000).ToString("F0", CultureInfo.InvariantCulture))} | {(measured.ServerCpuSeconds is { } s ? (s * 1000 / measured.Tasks).ToString("F1", CultureInfo.InvariantCulture) : "—")} | {measured.NotSucceeded} |"));
                    }
                }

                var sqlite = cpu.Where(r => r.Mode == "sqlite").Sum(r => r.CpuSeconds) * 1000 / cpu.Where(r => r.Mode == "sqlite").Sum(r => r.Tasks);
                var postgres = cpu.Where(r => r.Mode == "postgres").Sum(r => r.CpuSeconds) * 1000 / cpu.Where(r => r.Mode == "postgres").Sum(r => r.Tasks);
                var ratio = postgres / sqlite;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  service CPU per task: SQLite {sqlite:F1} ms, PostgreSQL {postgres:F1} ms: PostgreSQL / SQLite = {ratio:F3} ({(ratio - 1) * 100:+0.0;-0.0} %; the rule: under +10 %)"));
                figures.Add(("service CPU per task, SQLite mode", string.Create(CultureInfo.InvariantCulture, $"{sqlite:F1} ms")));
                figures.Add(("service CPU per task, PostgreSQL mode", string.Create(CultureInfo.InvariantCulture, $"{postgres:F1} ms ({(ratio - 1) * 100:+0.0;-0.0} %)")));
                ok &= ratio < 1.10;
            }

            if (sections.Contains("chaos"))
            {
                // Room for every upload in the queue and no per-client cap (all uploads come from one address):
                // the run is about the kill, not about admission, which other tests cover.
                var capacity = Math.Max(500, uploads);
                Console.WriteLine($"4. Chaos: {instances} instances (2 workers each, lease {lease} s, QueueCapacity {capacity}, MaxConcurrentUploadsPerClient 0) "
                                  + $"behind nginx, {uploads} uploads at concurrency {concurrency}, one instance SIGKILLed");
                var settings = new Dictionary<string, string>
                {
                    ["ThumbnailApi:LeaseSeconds"] = $"{lease}",
                    ["ThumbnailApi:WorkerCount"] = "2",
                    ["ThumbnailApi:QueueCapacity"] = $"{capacity}",
                    ["ThumbnailApi:MaxConcurrentUploadsPerClient"] = "0",
                };
                ChaosReport report;
                await using (var cluster = await ScaledOutCluster.CreateAsync(server, dll, settings))
                {
                    for (var i = 0; i < instances; i++)
                    {
                        await cluster.StartInstanceAsync();
                    }

                    await cluster.StartNginxAsync();
                    report = await ChaosRun.RunAsync(cluster, cluster.Instances[instances / 2],
                        new ChaosSettings { Uploads = uploads, Concurrency = concurrency, LongPollers = 4, FinishDeadline = TimeSpan.FromSeconds(3 * lease + 120) },
                        images, Console.WriteLine);
                }

                foreach (var line in report.Summary())
                {
                    Console.WriteLine($"  {line}");
                }

                foreach (var broken in report.BrokenRules)
                {
                    Console.WriteLine($"  BROKEN: {broken}");
                }

                var others = report.Uploads.Count(upload => upload.Status != 202);
                figures.Add(("chaos run: uploads / 202 / SUCCESS / FAILED / re-run after the kill / duplicates",
                    $"{report.Uploads.Count} / {report.Accepted.Count} / {report.SuccessCount} / {report.FailedCount} / {report.Kill.Held.Count - report.HeldProblems.Count} / {report.DoubleSuccesses.Count}"
                    + (others > 0 ? $" ({others} upload(s) not accepted: see above)" : "")));
                ok &= report.BrokenRules.Count == 0;
            }

            Console.WriteLine();
            Console.WriteLine("| figure | value |");
            Console.WriteLine("|---|---|");
            foreach (var (figure, value) in figures)
            {
                Console.WriteLine($"| {figure} | {value} |");
            }

            Console.WriteLine(ok ? "scale-out: OK" : "scale-out: BROKEN");
            return ok ? 0 : 1;
        }
        finally
        {
            server.Stop();
        }
    }

    private static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";

    private static string FirstLine((int ExitCode, string Output) result) => result.Output.Split('\n')[0].Trim();
}

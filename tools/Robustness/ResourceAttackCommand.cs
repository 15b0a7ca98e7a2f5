using System.Net;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Robustness;

/// <summary>
/// The resource attacks of issue 11 against the published service, one fresh process per case (so
/// each peak is the case's own). A case uploads one crafted file N times at once, follows every
/// accepted task to its end, and meanwhile samples the service's RSS (every ~20 ms) and CPU time,
/// counts its busy threads, uploads a normal 640x480 JPEG every second and probes /healthz. It then
/// waits for the process to go idle and for its RSS to come back. The rules (each an option):
/// peak RSS within the decode-memory budget plus a base; at most 1 CPU-second after the last task
/// ended; RSS back within 50 MB of idle within 60 s; a normal upload never over 5 s; no 5xx; no task
/// left unfinished. Prints each case, then a markdown table; exits 1 when a rule is broken.
/// </summary>
public static class ResourceAttackCommand
{
    private const string StallCase = "stalled-uploads";

    public static async Task<int> RunAsync(Arguments arguments)
    {
        var options = Options.From(arguments);
        var cases = AllCases(options);
        if (arguments.Flag("list"))
        {
            foreach (var attack in cases)
            {
                Console.WriteLine($"{attack.Name,-48} {attack.Copies} upload(s){(options.IsQuick(attack.Name) ? "  [--quick]" : "")}");
            }

            return 0;
        }

        var chosen = Choose(cases, options);
        if (chosen.Count == 0)
        {
            Console.Error.WriteLine("resources: no case matches --cases (see --list)");
            return 2;
        }

        var header = Header(options);
        Console.WriteLine(header);
        Console.WriteLine($"{chosen.Count} case(s): {string.Join(", ", chosen.Select(c => c.Name))}");
        Console.WriteLine();

        var results = new List<CaseResult>();
        foreach (var attack in chosen)
        {
            CaseResult result;
            try
            {
                result = attack.Name == StallCase ? await RunStallAsync(attack, options) : await RunCaseAsync(attack, options);
            }
            catch (Exception problem) when (problem is InvalidOperationException or TimeoutException or IOException or HttpRequestException)
            {
                result = CaseResult.Crashed(attack, problem.Message.Split('\n')[0]);
            }

            Console.WriteLine(result.Details);
            results.Add(result);
        }

        Console.WriteLine();
        Console.WriteLine(header);
        Console.WriteLine();
        Console.WriteLine(Table(results));
        var broken = results.Count(r => r.Broken.Count > 0);
        Console.WriteLine();
        Console.WriteLine(broken == 0 ? "resources: OK" : $"resources: BROKEN ({broken} of {results.Count} cases break a rule)");
        return broken == 0 ? 0 : 1;
    }

    // ---------------------------------------------------------------------------------------------
    // Cases
    // ---------------------------------------------------------------------------------------------

    private static List<AttackCase> AllCases(Options options)
    {
        var folder = Path.Combine(options.Images, "hostile", "resources");
        var cases = Directory.EnumerateFiles(folder)
            .Where(path => !path.EndsWith(".md", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(path => new AttackCase(Path.GetFileName(path), Path.GetFileName(path),
                Path.GetFileName(path).Contains("spp", StringComparison.Ordinal) ? options.CpuUploads : 1,
                () => File.ReadAllBytes(path)))
            .ToList();

        // Too big to commit: made here (CraftedFiles), with the size limit the service runs with.
        var room = options.MaxUploadBytes - 4096;
        cases.Add(new AttackCase($"generated:tiff-pages-{(room - 378) / 6 / 100_000 / 10.0:F1}M-empty", "pages.tif", 1,
            () => CraftedFiles.EmptyPageChain(room)));
        cases.Add(new AttackCase($"generated:bigtiff-pages-{(room - 468) / 16 / 100_000 / 10.0:F1}M-empty", "pages.tif", 1,
            () => CraftedFiles.BigTiffEmptyPageChain(room)));
        cases.Add(new AttackCase("generated:tiff-pages-65536-real", "pages.tif", 1, () => CraftedFiles.RealPageChain(65_536)));
        cases.Add(new AttackCase("generated:tiff-pages-70000-real", "pages.tif", 1, () => CraftedFiles.RealPageChain(70_000)));
        cases.Add(new AttackCase(StallCase, "stall.jpg", options.StallClients, () => []));
        if (options.Uploads is { } copies)
        {
            cases = cases.Select(c => c.Name == StallCase ? c : c with { Copies = copies }).ToList();
        }

        return cases;
    }

    private static List<AttackCase> Choose(List<AttackCase> cases, Options options)
    {
        if (options.CaseFilter.Count > 0)
        {
            return cases.Where(c => options.CaseFilter.Any(f => c.Name.Contains(f, StringComparison.OrdinalIgnoreCase))).ToList();
        }

        return options.Quick ? cases.Where(c => options.IsQuick(c.Name)).ToList() : cases;
    }

    // ---------------------------------------------------------------------------------------------
    // One case
    // ---------------------------------------------------------------------------------------------

    private static async Task<CaseResult> RunCaseAsync(AttackCase attack, Options options)
    {
        var bytes = attack.Bytes();
        var run = await CaseRun.StartAsync(attack, options);
        try
        {
            var clock = run.Clock;
            var attackStart = ProcessMonitor.Seconds(clock);
            run.Normal.Start(options.NormalEverySeconds);
            var health = run.ProbeHealthAsync();

            // N uploads at once, each followed (long-poll) to its end.
            var cap = options.TaskWait(attack.Copies);
            var uploads = await Task.WhenAll(Enumerable.Range(0, attack.Copies).Select(async _ =>
            {
                var sent = ProcessMonitor.Seconds(clock);
                var answer = await run.Client.UploadAsync(bytes, attack.UploadName);
                var answered = ProcessMonitor.Seconds(clock);
                if (answer.Status != 202)
                {
                    return new Upload(answer, answered - sent, answered, null, null, answered);
                }

                var (status, body) = await run.Client.FollowAsync(answer.TaskId!, cap);
                var state = body?.GetProperty("task_status").GetString() ?? $"unreachable ({status})";
                var error = body is { } b && b.TryGetProperty("error", out var e) && e.ValueKind == System.Text.Json.JsonValueKind.Object ? e : (System.Text.Json.JsonElement?)null;
                return new Upload(answer, answered - sent, answered, state, error?.GetProperty("code").GetString(), ProcessMonitor.Seconds(clock))
                {
                    StatusCode = status,
                    FailureMessage = error?.GetProperty("message").GetString(),
                };
            }));

            var end = uploads.Max(u => u.Ended);
            var firstTimeout = uploads.Where(u => u.Code == "processing_timeout").Select(u => (double?)u.Ended).Min();
            var idle = await run.WaitIdleAsync(end);
            var unfinishedNormal = await run.Normal.StopAsync(TimeSpan.FromSeconds(60));
            run.StopHealth();
            var healthProbes = await health;
            var back = await run.WaitRssBackAsync(end, idle);
            return run.Finish(attack, bytes.Length, attackStart, uploads, end, firstTimeout, idle, back, unfinishedNormal, healthProbes, null, []);
        }
        finally
        {
            run.Dispose();
        }
    }

    private static async Task<CaseResult> RunStallAsync(AttackCase attack, Options options)
    {
        var run = await CaseRun.StartAsync(attack, options);
        try
        {
            var clock = run.Clock;
            var attackStart = ProcessMonitor.Seconds(clock);
            run.Normal.Start(options.NormalEverySeconds);
            var health = run.ProbeHealthAsync();
            var stall = new StalledUploads(run.Service.BaseAddress, Path.Combine(run.Data, "uploads"), clock);
            var readings = new List<FolderReading>();
            using var watching = new CancellationTokenSource();
            var watch = Task.Run(async () =>
            {
                while (!watching.IsCancellationRequested)
                {
                    lock (readings)
                    {
                        readings.Add(stall.Read());
                    }

                    await Task.Delay(250, CancellationToken.None);
                }
            }, CancellationToken.None);

            var declared = options.MaxUploadBytes - (1 << 20);
            await stall.SendAsync(attack.Copies, declared, options.StallBytes);
            var sentAt = ProcessMonitor.Seconds(clock);
            while (ProcessMonitor.Seconds(clock) < sentAt + options.StallObserveSeconds)
            {
                await Task.Delay(250);
            }

            var connections = await stall.CloseAsync();
            watching.Cancel();
            await watch;
            var end = ProcessMonitor.Seconds(clock);
            var idle = await run.WaitIdleAsync(end);
            var unfinishedNormal = await run.Normal.StopAsync(TimeSpan.FromSeconds(60));
            run.StopHealth();
            var healthProbes = await health;
            var back = await run.WaitRssBackAsync(end, idle);
            var stallReport = StallReport(readings, connections, attackStart, sentAt, options, out var kept);
            return run.Finish(attack, attack.Copies * options.StallBytes, attackStart, [], end, null, idle, back, unfinishedNormal, healthProbes,
                              stallReport, kept ? ["stalled uploads kept"] : []);
        }
        finally
        {
            run.Dispose();
        }
    }

    private static string StallReport(List<FolderReading> readings, List<StalledConnection> connections, double start, double sentAt,
                                      Options options, out bool kept)
    {
        var text = new StringBuilder();
        var peak = readings.MaxBy(r => r.Bytes);
        text.AppendLine(
            $"  stalled uploads: {connections.Count} clients sent {options.StallBytes:N0} bytes each of a {options.MaxUploadBytes - (1 << 20):N0}-byte upload, " +
            $"all sent {sentAt - start:F1} s after the start, then nothing for {options.StallObserveSeconds} s");
        text.AppendLine($"  uploads/: peak {Mb(peak.Bytes)} in {peak.Files} files at +{peak.At - start:F1} s");
        var marks = new[] { 1, 5, 10, 20, 30, 35, 40, 45, 60, 90 }.Where(m => m <= options.StallObserveSeconds + 1);
        text.AppendLine("  uploads/ after the last byte sent: " + string.Join(", ", marks.Select(m =>
        {
            var reading = readings.LastOrDefault(r => r.At <= sentAt + m);
            return $"+{m} s {Mb(reading.Bytes)}";
        })));
        var removed = readings.Where(r => r.At >= peak.At && r.Bytes == 0).Select(r => (double?)r.At).FirstOrDefault();
        var stillZero = removed is { } at && readings.Where(r => r.At >= at).All(r => r.Bytes == 0);
        kept = !(stillZero && removed <= sentAt + options.StallMaxSeconds);
        text.AppendLine(stillZero
            ? $"  all removed {removed - sentAt:F1} s after the last byte sent"
            : $"  NOT removed: {Mb(readings.LastOrDefault().Bytes)} still in uploads/ {readings.LastOrDefault().At - sentAt:F0} s after the last byte sent");
        foreach (var group in connections.GroupBy(c => c.Ending))
        {
            var times = group.Where(c => c.EndedAt is not null).Select(c => c.EndedAt!.Value - sentAt).ToList();
            text.AppendLine(
                $"  {group.Count()} connection(s): {group.Key}{(times.Count > 0 ? $" at +{times.Min():F1}..+{times.Max():F1} s" : "")}");
        }

        return text.ToString().TrimEnd();
    }

    // ---------------------------------------------------------------------------------------------
    // Output
    // ---------------------------------------------------------------------------------------------

    private static string Header(Options options)
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var settings = options.Settings.Count == 0 ? "default settings" : "settings " + string.Join(", ", options.Settings.Select(p => $"{p.Key}={p.Value}"));
        return $"## Resource attacks, {DateTime.Now:yyyy-MM-dd HH:mm} on {cpu} ({Environment.ProcessorCount} cores), " +
               $"published Release service, {settings}\n\n" +
               $"Rules: peak RSS <= budget {options.BudgetMb} MB + base {options.BaseMb} MB; CPU after the last task ended <= {options.CpuAfterSeconds} s; " +
               $"RSS back within {options.RssReturnMb} MB of idle within {options.SettleSeconds} s of the end; a normal JPEG upload -> SUCCESS <= {options.NormalMaxSeconds} s; " +
               "no 5xx; no task left unfinished.";
    }

    private static string Table(List<CaseResult> results)
    {
        var table = new StringBuilder();
        table.AppendLine("| case | bytes | N | upload answers | tasks | idle RSS | peak RSS | RSS back | CPU after end (busy for) | threads busy after end / max | normal JPEG p50 / max | /healthz max | broken |");
        table.AppendLine("|---|---:|---:|---|---|---:|---:|---|---|---|---|---:|---|");
        foreach (var r in results)
        {
            table.AppendLine(r.Row);
        }

        return table.ToString().TrimEnd();
    }

    internal static string Mb(long bytes) => $"{bytes / (1024.0 * 1024):F0} MB";

    internal static string Answers(IEnumerable<string> answers) =>
        string.Join(", ", answers.GroupBy(a => a).OrderByDescending(g => g.Count()).Select(g => g.Count() == 1 ? g.Key : $"{g.Count()}× {g.Key}"));

    // ---------------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------------

    internal sealed record AttackCase(string Name, string UploadName, int Copies, Func<byte[]> Bytes);

    internal sealed record Upload(UploadResult Answer, double AnswerSeconds, double AnsweredAt, string? State, string? Code, double Ended)
    {
        public int StatusCode { get; init; } = 200;

        public string? FailureMessage { get; init; }
    }

    internal sealed record HealthProbe(double At, double Seconds, int Status);

    internal sealed class CaseResult
    {
        public required string Name { get; init; }

        public required string Details { get; init; }

        public required string Row { get; init; }

        public List<string> Broken { get; init; } = [];

        public static CaseResult Crashed(AttackCase attack, string message) => new()
        {
            Name = attack.Name,
            Details = $"== {attack.Name}\n  the case could not run: {message}",
            Row = $"| {attack.Name} | | {attack.Copies} | could not run: {message.Replace('|', '/')} | | | | | | | | | run failed |",
            Broken = ["run failed"],
        };
    }

    /// <summary>Settings and thresholds, from the command line.</summary>
    internal sealed class Options
    {
        public required string Service { get; init; }

        public required string Images { get; init; }

        public required Dictionary<string, string> Settings { get; init; }

        public bool Quick { get; init; }

        public required IReadOnlyList<string> CaseFilter { get; init; }

        public int? Uploads { get; init; }

        public int CpuUploads { get; init; }

        public long MaxUploadBytes { get; init; }

        public int Workers { get; init; }

        public int DeadlineSeconds { get; init; }

        public long BudgetMb { get; init; }

        public long BaseMb { get; init; }

        public double CpuAfterSeconds { get; init; }

        public double SettleSeconds { get; init; }

        public long RssReturnMb { get; init; }

        public double NormalMaxSeconds { get; init; }

        public double NormalEverySeconds { get; init; }

        public double BusyCapSeconds { get; init; }

        public double IdleCores { get; init; }

        public long KillAboveMb { get; init; }

        public int StallClients { get; init; }

        public string? TraceFolder { get; init; }

        public long StallBytes { get; init; }

        public double StallObserveSeconds { get; init; }

        public double StallMaxSeconds { get; init; }

        private static readonly HashSet<string> QuickCases =
        [
            "tiff-spp1536-tiles.tif", "tiff-10000x10000-8x16bit-strip.tif", "png-10000x10000-rgba16-interlaced.png",
            "gif-20-frames-10000x10000-truncated.gif", "tiff-pages-100000.tif", "webp-lossless-10000x10000-flat.webp", StallCase,
        ];

        /// <summary>The cases --quick runs: one of each kind, and the 8.7 million-page chain.</summary>
        public bool IsQuick(string name) =>
            QuickCases.Contains(name) || (name.StartsWith("generated:tiff-pages-", StringComparison.Ordinal) && name.EndsWith("M-empty", StringComparison.Ordinal));

        /// <summary>How long the tasks of one case may take before they count as unfinished: every deadline in turn, and two minutes.</summary>
        public TimeSpan TaskWait(int copies) =>
            TimeSpan.FromSeconds(DeadlineSeconds * Math.Ceiling(copies / (double)Math.Max(1, Workers)) + 120);

        public static Options From(Arguments arguments)
        {
            var quick = arguments.Flag("quick");
            var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var setting in arguments.All("setting"))
            {
                var (key, value) = setting.Split('=', 2) is [var k, var v] ? (k, v) : throw new ArgumentException($"--setting {setting}: expected Key=Value");
                settings[key.Replace("__", ":", StringComparison.Ordinal)] = value; // ThumbnailApi__X as in the environment
            }

            long Setting(string name, long fallback) =>
                settings.TryGetValue($"ThumbnailApi:{name}", out var text) ? long.Parse(text, CultureInfo.InvariantCulture) : fallback;

            var budgetBytes = Setting("MaxDecodeMemoryBytes", 512L * 1024 * 1024);
            return new Options
            {
                Service = arguments.Text("service"),
                Images = arguments.Text("images"),
                Settings = settings,
                Quick = quick,
                CaseFilter = arguments.Text("cases", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Uploads = arguments.Flag("uploads") ? arguments.Number("uploads", 1) : null,
                CpuUploads = arguments.Number("cpu-uploads", quick ? 2 : 6),
                MaxUploadBytes = Setting("MaxUploadBytes", 50L * 1024 * 1024),
                Workers = (int)Setting("WorkerCount", Environment.ProcessorCount),
                DeadlineSeconds = (int)Setting("ProcessingTimeoutSeconds", 30),
                BudgetMb = arguments.Number("budget-mb", (int)(budgetBytes / (1024 * 1024))),
                BaseMb = arguments.Number("base-mb", 200),
                CpuAfterSeconds = arguments.Decimal("cpu-after-s", 1.0),
                SettleSeconds = arguments.Decimal("settle-s", quick ? 30 : 60),
                RssReturnMb = arguments.Number("rss-return-mb", 50),
                NormalMaxSeconds = arguments.Decimal("normal-max-s", 5),
                NormalEverySeconds = arguments.Decimal("normal-every-s", 1),
                BusyCapSeconds = arguments.Decimal("busy-cap-s", quick ? 90 : 180),
                IdleCores = arguments.Decimal("idle-cores", 0.15),
                KillAboveMb = arguments.Number("kill-above-mb", 8192),
                StallClients = arguments.Number("stall-clients", 10),
                TraceFolder = arguments.Flag("trace") ? arguments.Text("trace") : null,
                StallBytes = (long)(arguments.Decimal("stall-mb", 45) * 1_000_000),
                StallObserveSeconds = arguments.Decimal("stall-observe-s", quick ? 40 : 45),
                StallMaxSeconds = arguments.Decimal("stall-max-s", 40),
            };
        }
    }

    /// <summary>A fresh service process with its monitor, client, normal uploads and health probe, for one case.</summary>
    private sealed class CaseRun : IDisposable
    {
        private readonly Options _options;
        private CancellationTokenSource _health = new();

        private CaseRun(Options options, ServiceProcess service, string data)
        {
            _options = options;
            Service = service;
            Data = data;
            Monitor = new ProcessMonitor(service.Id, Clock, options.KillAboveMb * 1024 * 1024);
            Client = new LoadClient(service.BaseAddress);
            // The normal uploads come from another loopback address: another client, as a real one would be,
            // so the attackers' per-client limits (rate, uploads in progress) do not count them.
            NormalClient = new LoadClient(service.BaseAddress, IPAddress.Parse("127.0.0.2"));
            Normal = new NormalUploads(NormalClient, File.ReadAllBytes(Path.Combine(options.Images, "photo.jpg")), Clock);
        }

        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        public ServiceProcess Service { get; }

        public string Data { get; }

        public ProcessMonitor Monitor { get; }

        public LoadClient Client { get; }

        public LoadClient NormalClient { get; }

        public NormalUploads Normal { get; }

        public double BaselineCores { get; private set; }

        public long IdleRss { get; private set; }

        public List<NormalUpload> IdleNormal { get; private set; } = [];

        /// <summary>Starts the service, warms it up (two normal uploads), measures the CPU of the normal-upload loop at idle and the idle RSS.</summary>
        public static async Task<CaseRun> StartAsync(AttackCase attack, Options options)
        {
            var data = Directory.CreateTempSubdirectory("thumbnailapi-resources-").FullName;
            ServiceProcess service;
            try
            {
                service = await ServiceProcess.StartAsync(options.Service, data, options.Settings);
            }
            catch
            {
                TempFolder.Delete(data);
                throw;
            }

            var run = new CaseRun(options, service, data);
            for (var i = 0; i < 4; i++)
            {
                await run.Normal.OneAsync();
                await run.Client.GetStatusAsync("/healthz");
            }

            await Task.Delay(1000);
            var from = ProcessMonitor.Seconds(run.Clock);
            var cpu = run.Monitor.CpuAt(from);
            run.Normal.Start(options.NormalEverySeconds);
            var health = run.ProbeHealthAsync();
            await Task.Delay(TimeSpan.FromSeconds(4 * options.NormalEverySeconds));
            await run.Normal.StopAsync(TimeSpan.FromSeconds(10));
            run.StopHealth();
            await health;
            run._health = new CancellationTokenSource();
            var to = ProcessMonitor.Seconds(run.Clock);
            run.BaselineCores = (run.Monitor.CpuAt(to) - cpu) / (to - from);
            await Task.Delay(1000);
            var last = run.Monitor.Since(ProcessMonitor.Seconds(run.Clock) - 1).Select(s => s.RssBytes).Order().ToList();
            run.IdleRss = last.Count > 0 ? last[last.Count / 2] : 0;
            run.IdleNormal = run.Normal.Take();
            return run;
        }

        /// <summary>GET /healthz every second until <see cref="StopHealth"/>, recording how long each took.</summary>
        public Task<List<HealthProbe>> ProbeHealthAsync() => Task.Run(async () =>
        {
            var probes = new List<HealthProbe>();
            while (!_health.IsCancellationRequested)
            {
                var at = ProcessMonitor.Seconds(Clock);
                var status = await Client.GetStatusAsync("/healthz");
                probes.Add(new HealthProbe(at, ProcessMonitor.Seconds(Clock) - at, status));
                try
                {
                    await Task.Delay(1000, _health.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }

            return probes;
        });

        public void StopHealth() => _health.Cancel();

        /// <summary>
        /// The first moment after <paramref name="end"/> at which the process used, over one second, no
        /// more than the normal-upload loop's own CPU plus <see cref="Options.IdleCores"/>; gives up
        /// after <see cref="Options.BusyCapSeconds"/> (or when the process is gone).
        /// </summary>
        public async Task<double> WaitIdleAsync(double end)
        {
            await Task.Delay(1100);
            while (true)
            {
                var now = ProcessMonitor.Seconds(Clock);
                if (Service.HasExited || now > end + _options.BusyCapSeconds)
                {
                    return now;
                }

                if (Monitor.CoresOver(1.0) <= BaselineCores + _options.IdleCores)
                {
                    return Math.Max(end, now - 1.0); // idle over the last second: it went idle at its start
                }

                await Task.Delay(100);
            }
        }

        /// <summary>Waits until RSS is within the allowance of idle (and the process idle), or the settle time after the end has passed.</summary>
        public async Task<double?> WaitRssBackAsync(double end, double idle)
        {
            var allowance = _options.RssReturnMb * 1024 * 1024;
            while (!Service.HasExited)
            {
                var now = ProcessMonitor.Seconds(Clock);
                var back = Monitor.Since(Math.Max(end, idle)).FirstOrDefault(s => s.RssBytes <= IdleRss + allowance);
                if (back != default)
                {
                    return back.At;
                }

                if (now > end + _options.SettleSeconds)
                {
                    return null;
                }

                await Task.Delay(250);
            }

            return null;
        }

        public CaseResult Finish(AttackCase attack, long size, double start, Upload[] uploads, double end, double? firstTimeout, double idle,
                                 double? back, List<NormalUpload> unfinishedNormal, List<HealthProbe> health, string? extra,
                                 IEnumerable<string> alsoBroken)
        {
            var o = _options;
            var samples = Monitor.Since(start);
            var last = Monitor.Last;
            var peak = Math.Max(samples.Count > 0 ? samples.Max(s => s.RssBytes) : 0, last?.PeakRssBytes ?? 0);
            var sampledPeak = samples.Count > 0 ? samples.Max(s => s.RssBytes) : 0;
            var peakAt = samples.Count > 0 ? samples.First(s => s.RssBytes >= 0.99 * sampledPeak).At : start; // when it first came near the peak
            var afterEnd = samples.Where(s => s.At > end && s.At <= idle).ToList();
            var cpuAfter = Math.Max(0, Monitor.CpuAt(idle) - Monitor.CpuAt(end) - BaselineCores * (idle - end));
            var cpuAfterFirstTimeout = firstTimeout is { } t ? Math.Max(0, Monitor.CpuAt(idle) - Monitor.CpuAt(t) - BaselineCores * (idle - t)) : (double?)null;
            var cpuTotal = Monitor.CpuAt(idle) - Monitor.CpuAt(start);
            var busyAfter = afterEnd.Count > 0 ? afterEnd.Max(s => s.BusyThreads) : 0;
            var busyMax = samples.Count > 0 ? samples.Max(s => s.BusyThreads) : 0;
            var settleSample = samples.LastOrDefault(s => s.At <= end + o.SettleSeconds);
            var normal = Normal.Take().Concat(unfinishedNormal).ToList();
            var finishedNormal = normal.Where(u => u.Finished).Select(u => u.Seconds).Order().ToList();
            var slowest = normal.Count > 0 ? normal.Max(u => u.Seconds) : 0;
            var p50 = finishedNormal.Count > 0 ? finishedNormal[finishedNormal.Count / 2] : double.NaN;
            var idleP50 = IdleNormal.Count > 0 ? IdleNormal.Select(u => u.Seconds).Order().ElementAt(IdleNormal.Count / 2) : double.NaN;
            var healthMax = health.Count > 0 ? health.Max(h => h.Seconds) : 0;
            var died = Service.HasExited;
            if (o.TraceFolder is { } folder)
            {
                Directory.CreateDirectory(folder);
                File.WriteAllLines(Path.Combine(folder, $"{attack.Name.Replace(':', '-')}.csv"),
                    ["seconds,rss_mb,vmhwm_mb,cpu_seconds,busy_threads", .. samples.Select(x => string.Create(CultureInfo.InvariantCulture,
                        $"{x.At - start:F3},{x.RssBytes / 1048576.0:F1},{x.PeakRssBytes / 1048576.0:F1},{x.CpuSeconds:F2},{x.BusyThreads}"))]);
            }


            var answers = uploads.Select(u => u.Answer.Status == 202 ? "202" : $"{u.Answer.Status} {u.Answer.Code ?? u.Answer.Failure}").ToList();
            var tasks = uploads.Where(u => u.State is not null).Select(u => u.Code is null ? u.State! : $"{u.State} {u.Code}").ToList();
            var messages = uploads.Select(u => u.Answer.Status != 202 ? u.Answer.Message : u.FailureMessage).OfType<string>().Distinct().ToList();

            var broken = alsoBroken.ToList();
            if (peak > (o.BudgetMb + o.BaseMb) * 1024 * 1024)
            {
                broken.Add("peak RSS");
            }

            if (cpuAfter > o.CpuAfterSeconds)
            {
                broken.Add("CPU after end");
            }

            if (back is null || back > end + o.SettleSeconds)
            {
                broken.Add("RSS not back");
            }

            if (slowest > o.NormalMaxSeconds || normal.Any(u => !u.Outcome.StartsWith("SUCCESS", StringComparison.Ordinal)))
            {
                broken.Add("normal upload slow or failed");
            }

            if (uploads.Any(u => u.Answer.Status >= 500 || u.StatusCode >= 500) || normal.Any(u => u.Outcome.Contains(" 5", StringComparison.Ordinal))
                || health.Any(h => h.Status >= 500))
            {
                broken.Add("5xx");
            }

            if (uploads.Any(u => u.State is "PENDING" || u.State?.StartsWith("unreachable", StringComparison.Ordinal) == true) || normal.Any(u => !u.Finished))
            {
                broken.Add("unfinished");
            }

            if (died)
            {
                broken.Add(Monitor.KilledAtBytes is { } killed ? $"killed by this tool at {Mb(killed)}" : "service died");
            }

            var details = new StringBuilder();
            details.AppendLine($"== {attack.Name} ({size:N0} bytes, {attack.Copies} upload(s) at once)");
            if (uploads.Length > 0)
            {
                details.AppendLine(
                    $"  upload answers: {Answers(answers)} in {uploads.Min(u => u.AnswerSeconds):F2}–{uploads.Max(u => u.AnswerSeconds):F2} s");
                foreach (var message in messages)
                {
                    details.AppendLine($"    \"{message}\"");
                }

                if (tasks.Count > 0)
                {
                    var ended = uploads.Where(u => u.State is not null).Select(u => u.Ended - start).ToList();
                    details.AppendLine(
                        $"  tasks: {Answers(tasks)}, ended {ended.Min():F1}–{ended.Max():F1} s after the uploads began");
                }
            }

            if (extra is not null)
            {
                details.AppendLine(extra);
            }

            details.AppendLine(
                $"  RSS: idle {Mb(IdleRss)}, peak {Mb(peak)} (+{Mb(peak - IdleRss)}, at +{peakAt - start:F1} s; VmHWM {Mb(last?.PeakRssBytes ?? 0)}), " +
                (back is { } b2 ? $"back within {o.RssReturnMb} MB of idle {b2 - end:F1} s after the end" : $"NOT back within {o.RssReturnMb} MB of idle") +
                $"; {o.SettleSeconds:F0} s after the end: {(settleSample == default || settleSample.At < end + o.SettleSeconds - 1 ? "(not waited)" : Mb(settleSample.RssBytes))}");
            details.AppendLine(
                $"  CPU: {cpuTotal:F1} CPU-s in all; after the last task ended: {cpuAfter:F1} CPU-s, busy {idle - end:F1} s " +
                $"(threads busy, >= 10% of a core: up to {busyAfter} after the end, {busyMax} during the case)" +
                (cpuAfterFirstTimeout is { } f ? $"; after the first processing_timeout: {f:F1} CPU-s" : "") +
                $" [normal-upload loop alone: {BaselineCores:F2} cores]");
            details.AppendLine(
                $"  normal JPEG: {normal.Count} uploads, upload->end p50 {p50:F2} s, max {slowest:F2} s (idle p50 {idleP50:F2} s)" +
                (normal.Any(u => !u.Outcome.StartsWith("SUCCESS", StringComparison.Ordinal)) ? $"; outcomes {Answers(normal.Select(u => u.Outcome))}" : "") +
                $"; /healthz max {healthMax:F2} s");
            details.Append(broken.Count == 0 ? "  rules: OK" : $"  BROKEN: {string.Join(", ", broken)}");

            var row = $"| {attack.Name} | {size:N0} | {attack.Copies} | {(uploads.Length > 0 ? Answers(answers) : "—")} | " +
                      $"{(tasks.Count > 0 ? Answers(tasks) : extra is not null ? StallCell(extra) : "—")} | {Mb(IdleRss)} | {Mb(peak)} | " +
                      $"{(back is { } b3 ? $"{b3 - end:F0} s" : $"no ({(settleSample == default ? "?" : Mb(settleSample.RssBytes))} at {o.SettleSeconds:F0} s)")} | " +
                      $"{cpuAfter:F1} s ({idle - end:F0} s) | {busyAfter} / {busyMax} | {p50:F2} / {slowest:F2} s | {healthMax:F2} s | " +
                      $"{(broken.Count == 0 ? "—" : string.Join(", ", broken))} |";
            return new CaseResult { Name = attack.Name, Details = details.ToString(), Row = row, Broken = broken };
        }

        public void Dispose()
        {
            _health.Cancel();
            Monitor.Dispose();
            Client.Dispose();
            NormalClient.Dispose();
            Service.Dispose();
            TempFolder.Delete(Data);
        }

        private static string StallCell(string extra) =>
            extra.Split('\n').FirstOrDefault(l => l.Contains("removed", StringComparison.Ordinal))?.Trim()
                .Replace(" in uploads/", "", StringComparison.Ordinal).Replace("|", "/", StringComparison.Ordinal) ?? "";
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace ThumbnailApi.Bench;

/// <summary>
/// N uploads at concurrency C against a running service, each followed to SUCCESS or FAILED by
/// long-polling its status. Prints uploads/s, wall time from the first upload to the last
/// finished task, upload→finished latency percentiles, the service's peak RSS (with --pid) and
/// how many tasks did not finish, and with --pid the service's CPU time per finished task over the
/// run (from /proc/PID/stat: hold it against the pipeline's time per image). With --rss-every K it also prints the RSS after every K
/// finished tasks, for soak runs. Every upload carries a random 8-byte tail after the image
/// (decoders ignore it), so the service's reuse of identical uploads does not turn the run into a
/// cache benchmark; --identical sends the very same bytes each time instead.
/// </summary>
public static class LoadBenchmark
{
    private const string Api = "/api/v1/thumbnail_generator";

    private static int _connectionRetries;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = Options.Parse(args);
        var bytes = await File.ReadAllBytesAsync(options.File);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency * 2 + 8 })
        {
            BaseAddress = new Uri(options.Url),
            Timeout = TimeSpan.FromSeconds(120),
        };

        using var sampler = new RssSampler(options.Pid);
        var cpuBefore = options.Pid > 0 ? Measure.CpuMs(options.Pid) : null;
        var clock = Stopwatch.StartNew();
        var uploadSlots = new SemaphoreSlim(options.Concurrency);
        var latencies = new List<double>();
        var outcomes = new Dictionary<string, int>();
        var finishedCount = 0;
        double lastUploadEnd = 0, lastFinished = 0;
        var gate = new object();

        async Task OneAsync(int index)
        {
            await uploadSlots.WaitAsync();
            double started;
            string? id;
            try
            {
                started = clock.Elapsed.TotalMilliseconds;
                id = await UploadAsync(http, bytes, options.Identical ? null : Random.Shared.NextInt64(), Path.GetFileName(options.File), options.Fields);
                lock (gate)
                {
                    lastUploadEnd = Math.Max(lastUploadEnd, clock.Elapsed.TotalMilliseconds);
                }
            }
            finally
            {
                uploadSlots.Release();
            }

            var outcome = id is null ? "refused" : await FollowAsync(http, id, options.Deadline);
            var finished = clock.Elapsed.TotalMilliseconds;
            lock (gate)
            {
                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
                if (outcome is "SUCCESS" or "FAILED")
                {
                    latencies.Add(finished - started);
                    lastFinished = Math.Max(lastFinished, finished);
                }

                finishedCount++;
                if (options.RssEvery > 0 && finishedCount % options.RssEvery == 0)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"after {finishedCount,6} tasks: service RSS {sampler.Current:F0} MB (peak so far {sampler.Peak:F0} MB)"));
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, options.Count).Select(OneAsync));

        var cpuUsed = options.Pid > 0 ? Measure.CpuMs(options.Pid) - cpuBefore : null;
        latencies.Sort();
        var unfinished = options.Count - outcomes.GetValueOrDefault("SUCCESS") - outcomes.GetValueOrDefault("FAILED");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            file                 {Path.GetFileName(options.File)} ({bytes.Length / 1048576.0:F1} MB), {options.Count} uploads at concurrency {options.Concurrency}, {(options.Identical ? "identical bytes" : "each with its own tail")}
            uploads/s            {options.Count / (lastUploadEnd / 1000):F1}
            wall, first upload → last finished   {lastFinished / 1000:F2} s
            upload→finished ms   p50 {Measure.Percentile(latencies, 50):F0}   p95 {Measure.Percentile(latencies, 95):F0}   p99 {Measure.Percentile(latencies, 99):F0}   max {(latencies.Count > 0 ? latencies[^1] : double.NaN):F0}
            outcomes             {string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}"))}
            not finished         {unfinished}
            uploads retried      {_connectionRetries} after a closed connection
            service CPU          {(cpuUsed is { } cpu && latencies.Count > 0 ? $"{cpu / 1000:F2} s, {cpu / latencies.Count:F1} ms per finished task" : "n/a (pass --pid)")}
            service peak RSS     {(options.Pid > 0 ? $"{sampler.Peak:F0} MB (VmHWM {Measure.PeakRssMb(options.Pid):F0} MB)" : "n/a (pass --pid)")}
            """));
        return unfinished == 0 ? 0 : 1;
    }

    private static async Task<string?> UploadAsync(HttpClient http, byte[] bytes, long? tail, string name, IReadOnlyDictionary<string, string> fields)
    {
        while (true)
        {
            using var form = new MultipartFormDataContent();
            HttpContent file = tail is { } number ? new TailedContent(bytes, number) : new ByteArrayContent(bytes);
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, "image", name);
            foreach (var (key, value) in fields)
            {
                form.Add(new StringContent(value), key);
            }

            HttpResponseMessage response;
            try
            {
                response = await http.PostAsync($"{Api}/", form);
            }
            catch (HttpRequestException)
            {
                // A server that refuses early (429/503) may close the connection while the body is still
                // being sent: back off and try again, as a well-behaved client does.
                Interlocked.Increment(ref _connectionRetries);
                await Task.Delay(TimeSpan.FromSeconds(1));
                continue;
            }

            using var _ = response;
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                using var body = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
                return body.RootElement.GetProperty("task_id").GetString();
            }

            if (response.StatusCode is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests))
            {
                return null;
            }

            // Back-pressure: wait as told and try again, as a well-behaved client does.
            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
        }
    }

    private static async Task<string> FollowAsync(HttpClient http, string id, TimeSpan deadline)
    {
        var until = Stopwatch.GetTimestamp() + (long)(deadline.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until)
        {
            var asked = Stopwatch.GetTimestamp();
            using var response = await http.GetAsync($"{Api}/{id}?wait=30");
            using var body = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
            var status = body.RootElement.TryGetProperty("task_status", out var value) ? value.GetString() ?? "?" : "?";
            if (status != "PENDING")
            {
                return status;
            }

            if (Stopwatch.GetElapsedTime(asked) < TimeSpan.FromMilliseconds(5))
            {
                await Task.Delay(10); // a server without long-poll answers at once: do not spin
            }
        }

        return "not finished";
    }

    /// <summary>The image followed by an 8-byte number, written without copying the image.</summary>
    private sealed class TailedContent(byte[] image, long tail) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(image);
            await stream.WriteAsync(BitConverter.GetBytes(tail));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = image.Length + sizeof(long);
            return true;
        }
    }

    private sealed record Options(string Url, string File, int Count, int Concurrency, int Pid, int RssEvery, TimeSpan Deadline,
                                  IReadOnlyDictionary<string, string> Fields, bool Identical)
    {
        public static Options Parse(string[] args)
        {
            var identical = args.Contains("--identical");
            args = args.Where(a => a != "--identical").ToArray();
            var map = new Dictionary<string, string>();
            for (var i = 0; i + 1 < args.Length; i += 2)
            {
                map[args[i]] = args[i + 1];
            }

            int Int(string key, int fallback) => map.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
            var fields = map.TryGetValue("--fields", out var f)
                ? f.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1])
                : new Dictionary<string, string>();
            return new Options(map["--url"], map["--file"], Int("-n", 50), Int("-c", 4), Int("--pid", 0), Int("--rss-every", 0),
                TimeSpan.FromSeconds(Int("--deadline", 300)), fields, identical);
        }
    }

    /// <summary>Samples the service's RSS every 20 ms in the background.</summary>
    private sealed class RssSampler : IDisposable
    {
        private readonly Timer? _timer;
        private readonly int _pid;

        public RssSampler(int pid)
        {
            _pid = pid;
            if (pid > 0)
            {
                _timer = new Timer(_ => Sample(), null, 0, 20);
            }
        }

        public double Peak { get; private set; }

        public double Current { get; private set; }

        private void Sample()
        {
            if (Measure.RssMb(_pid) is { } rss)
            {
                Current = rss;
                Peak = Math.Max(Peak, rss);
            }
        }

        public void Dispose() => _timer?.Dispose();
    }
}

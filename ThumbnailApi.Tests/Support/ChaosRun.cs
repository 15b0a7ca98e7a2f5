using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using SkiaSharp;

namespace ThumbnailApi.Tests.Support;

/// <summary>How big a chaos run is: uploads through nginx, how many at once, how many clients long-poll meanwhile, and when the victim dies.</summary>
public sealed record ChaosSettings
{
    public int Uploads { get; init; } = 300;

    public int Concurrency { get; init; } = 8;

    public int LongPollers { get; init; } = 4;

    /// <summary>The victim is killed once it has finished this many tasks itself (and a third of the uploads were accepted).</summary>
    public int VictimSucceededBeforeKill { get; init; } = 10;

    /// <summary>How long the accepted tasks may take to finish once the last upload is answered.</summary>
    public TimeSpan FinishDeadline { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Instead of a SIGKILL, the victim stays frozen (SIGSTOP) until others have finished the claims it
    /// held, then runs on (SIGCONT): a zombie whose late results the lease fencing must throw away.
    /// </summary>
    public bool FreezeInsteadOfKill { get; init; }

    /// <summary>
    /// With blobs in a bucket: the S3 server is also stopped for this long once half the uploads were
    /// accepted (<see cref="ChaosOutage"/>), and an upload refused with storage_unavailable is sent
    /// again after <see cref="RetryRefusedAfter"/>, as a client honouring Retry-After would.
    /// </summary>
    public TimeSpan? StoreOutage { get; init; }

    public TimeSpan RetryRefusedAfter { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// The chaos scenario, shared by ChaosTests and the scale-out tool: uploads of the sample images
/// through nginx (each with its own width and height, so no upload reuses another's thumbnail) while
/// clients long-poll through nginx; once the victim has finished some tasks itself, it is frozen
/// (SIGSTOP) until the database shows it holding claims, then SIGKILLed (or, as a zombie, kept frozen
/// until others have finished those claims, then let run on). Then every accepted task is
/// followed to its end, every thumbnail downloaded through nginx, and the rows, stored blobs (from the
/// shared folder or the bucket) and logs are gathered into a <see cref="ChaosReport"/>, whose lists
/// name whatever broke a rule.
/// </summary>
public static class ChaosRun
{
    /// <summary>The valid photos of test_images/ uploaded in turn.</summary>
    public static readonly string[] SampleFiles = ["photo.jpg", "alpha.png", "photo.gif", "photo.tif", "photo.bmp", "photo.webp"];

    private const string Api = "/api/v1/thumbnail_generator";

    public static async Task<ChaosReport> RunAsync(ScaledOutCluster cluster, ServiceInstance victim, ChaosSettings settings, string imagesFolder, Action<string>? progress = null)
    {
        var nginx = cluster.Nginx ?? throw new InvalidOperationException("Start nginx in front of the cluster first.");
        var samples = SampleFiles.Select(name => (Name: name, Bytes: File.ReadAllBytes(Path.Combine(imagesFolder, name)))).ToArray();
        using var http = new HttpClient { BaseAddress = nginx.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        var clock = Stopwatch.StartNew();
        var uploads = new ConcurrentBag<ChaosUpload>();
        var accepted = new List<string>();
        var longPolls = new ConcurrentBag<ChaosLongPoll>();
        var kill = new KillRecord();
        using var stopPolling = new CancellationTokenSource();

        var pollers = Enumerable.Range(0, settings.LongPollers)
            .Select(n => Task.Run(() => LongPollAsync(http, accepted, longPolls, n, stopPolling.Token)))
            .ToArray();
        var killer = Task.Run(() => KillWhenItHoldsClaimsAsync(cluster, victim, settings, accepted, kill, progress));
        var outage = settings.StoreOutage is { } length
            ? Task.Run(() => ChaosOutage.RunAsync(cluster, length, settings.Uploads, accepted, () => kill.GivenUp, progress))
            : null;

        var next = -1;
        var senders = Enumerable.Range(0, settings.Concurrency).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < settings.Uploads)
            {
                var sample = samples[index % samples.Length];
                var upload = await UploadAsync(http, index, sample.Name, sample.Bytes, kill);
                uploads.Add(upload);
                while (settings.StoreOutage is not null && upload.Problem == "storage_unavailable")
                {
                    await Task.Delay(settings.RetryRefusedAfter); // the client's back-off (Retry-After), not a wait for a result
                    upload = await UploadAsync(http, index, sample.Name, sample.Bytes, kill);
                    uploads.Add(upload);
                }

                if (upload.TaskId is { } id)
                {
                    lock (accepted)
                    {
                        accepted.Add(id);
                    }
                }
            }
        });
        await Task.WhenAll(senders);
        var uploadSeconds = clock.Elapsed.TotalSeconds;
        progress?.Invoke($"  {uploads.Count} uploads answered in {uploadSeconds:F1} s ({accepted.Count} accepted); waiting for every task to finish");

        var final = await FollowToTheEndAsync(http, accepted.ToList(), settings);
        kill.GiveUp();
        await killer;
        var outageRecord = outage is null ? null : await outage;
        await stopPolling.CancelAsync();
        await Task.WhenAll(pollers);
        if (kill.ThawedAt is not null)
        {
            await WaitUntilTheThawedVictimGaveUpItsClaimsAsync(victim, kill);
        }

        var rows = await RowsAsync(cluster);
        var downloads = await DownloadAllAsync(http, final, rows);
        var storage = await ChaosStorage.GatherAsync(cluster, kill.At is not null && kill.ThawedAt is null ? victim : null);
        var successLines = cluster.Instances.SelectMany(instance => instance.SucceededInLog)
            .GroupBy(id => id).ToDictionary(group => group.Key, group => group.Count());
        return new ChaosReport(settings, victim, uploads.OrderBy(u => u.Index).ThenBy(u => u.Sent).ToList(), final, kill, outageRecord, rows, downloads, storage, successLines,
            longPolls.OrderBy(p => p.Started).ToList(), uploadSeconds, clock.Elapsed.TotalSeconds);
    }

    private static async Task<ChaosUpload> UploadAsync(HttpClient http, int index, string name, byte[] bytes, KillRecord kill)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "image", name);
        // Width and height unique to this upload: identical uploads would reuse one thumbnail.
        form.Add(new StringContent((32 + index % 992).ToString(System.Globalization.CultureInfo.InvariantCulture)), "width");
        form.Add(new StringContent((32 + index / 992).ToString(System.Globalization.CultureInfo.InvariantCulture)), "height");
        var sent = DateTimeOffset.UtcNow;
        var afterKill = kill.At is not null;
        try
        {
            using var response = await http.PostAsync($"{Api}/", form);
            var text = await response.Content.ReadAsStringAsync();
            string? id = null;
            string? code = null;
            try
            {
                var body = JsonDocument.Parse(text).RootElement;
                id = response.StatusCode == HttpStatusCode.Accepted ? body.GetProperty("task_id").GetString() : null;
                code = body.TryGetProperty("code", out var c) ? c.GetString() : null;
            }
            catch (JsonException)
            {
                code = "(nginx's page, not the service's)";
            }

            return new ChaosUpload(index, name, (int)response.StatusCode, id, code, sent, DateTimeOffset.UtcNow, afterKill);
        }
        catch (Exception problem) when (problem is HttpRequestException or TaskCanceledException)
        {
            return new ChaosUpload(index, name, 0, null, problem.GetType().Name, sent, DateTimeOffset.UtcNow, afterKill);
        }
    }

    /// <summary>
    /// Each poller long-polls (?wait=20) one of the latest accepted tasks it has not seen finish, again
    /// and again, until told to stop; at the end those left are the slowest, the victim's among them.
    /// </summary>
    private static async Task LongPollAsync(HttpClient http, List<string> accepted, ConcurrentBag<ChaosLongPoll> longPolls, int seed, CancellationToken stop)
    {
        var random = new Random(seed);
        var finished = new HashSet<string>();
        while (!stop.IsCancellationRequested)
        {
            string? id;
            lock (accepted)
            {
                var open = accepted.AsEnumerable().Reverse().Where(candidate => !finished.Contains(candidate)).Take(8).ToList();
                id = open.Count == 0 ? null : open[random.Next(open.Count)];
            }

            if (id is null)
            {
                await Task.Delay(50, CancellationToken.None);
                continue;
            }

            var started = DateTimeOffset.UtcNow;
            try
            {
                using var response = await http.GetAsync($"{Api}/{id}?wait=20", stop);
                var text = await response.Content.ReadAsStringAsync(CancellationToken.None);
                var state = response.StatusCode == HttpStatusCode.OK ? JsonDocument.Parse(text).RootElement.GetProperty("task_status").GetString() : null;
                longPolls.Add(new ChaosLongPoll(id, started, DateTimeOffset.UtcNow, (int)response.StatusCode, state, null));
                if (state != "PENDING")
                {
                    finished.Add(id);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception problem) when (problem is HttpRequestException or TaskCanceledException or JsonException)
            {
                longPolls.Add(new ChaosLongPoll(id, started, DateTimeOffset.UtcNow, 0, null, Describe(problem)));
            }
        }
    }

    /// <summary>The exception's type and every message down its chain, so that a report says what broke (a reset, an early end of the response).</summary>
    private static string Describe(Exception problem)
    {
        var messages = new List<string>();
        for (var inner = problem; inner is not null; inner = inner.InnerException)
        {
            messages.Add($"{inner.GetType().Name}: {inner.Message}");
        }

        return string.Join(" <- ", messages);
    }

    /// <summary>
    /// Once the victim has done its share, freezes it and looks at its claims: with at least one task in
    /// processing it is SIGKILLed (its claims are then frozen for good), otherwise it runs on and is tried
    /// again shortly. The claims it held are read after its death, before they can expire.
    /// </summary>
    private static async Task KillWhenItHoldsClaimsAsync(
        ScaledOutCluster cluster, ServiceInstance victim, ChaosSettings settings, List<string> accepted, KillRecord kill, Action<string>? progress)
    {
        await using var connection = await cluster.OpenAsync();
        while (!kill.GivenUp)
        {
            await Task.Delay(50);
            int acceptedSoFar;
            lock (accepted)
            {
                acceptedSoFar = accepted.Count;
            }

            var done = await connection.ExecuteScalarAsync<int>(
                "SELECT count(*) FROM tasks WHERE state = 'succeeded' AND lease_owner = @Id", new { victim.Id });
            if (acceptedSoFar < settings.Uploads / 3 || done < settings.VictimSucceededBeforeKill)
            {
                continue;
            }

            await victim.Process.PauseAsync();
            var holding = await connection.ExecuteScalarAsync<int>(
                "SELECT count(*) FROM tasks WHERE state = 'processing' AND lease_owner = @Id", new { victim.Id });
            if (holding == 0)
            {
                await victim.Process.ResumeAsync();
                continue;
            }

            if (!settings.FreezeInsteadOfKill)
            {
                victim.Process.Kill();
            }

            kill.At = DateTimeOffset.UtcNow;
            kill.AcceptedBefore = acceptedSoFar;
            await Task.Delay(300); // statements the victim had already sent are done; its leases have seconds to run
            kill.Held = (await connection.QueryAsync<HeldClaim>(
                "SELECT id, lease_token AS token, lease_expires_at AS expiresat FROM tasks WHERE state = 'processing' AND lease_owner = @Id",
                new { victim.Id })).AsList();
            kill.VictimSucceeded = await connection.ExecuteScalarAsync<int>(
                "SELECT count(*) FROM tasks WHERE state = 'succeeded' AND lease_owner = @Id", new { victim.Id });
            progress?.Invoke($"  {(settings.FreezeInsteadOfKill ? "SIGSTOP" : "SIGKILL")} to {victim} after {acceptedSoFar} accepted uploads: "
                             + $"it had finished {kill.VictimSucceeded} task(s) and held {kill.Held.Count}");
            if (settings.FreezeInsteadOfKill)
            {
                await ThawWhenOthersFinishedItsClaimsAsync(connection, victim, kill, settings, progress);
            }

            return;
        }
    }

    /// <summary>Keeps the frozen victim stopped until every claim it held has been finished by another instance, then lets it run on.</summary>
    private static async Task ThawWhenOthersFinishedItsClaimsAsync(
        Npgsql.NpgsqlConnection connection, ServiceInstance victim, KillRecord kill, ChaosSettings settings, Action<string>? progress)
    {
        var ids = kill.Held.Select(claim => claim.Id).ToArray();
        var deadline = DateTime.UtcNow + settings.FinishDeadline;
        while (DateTime.UtcNow < deadline
               && await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM tasks WHERE id = ANY(@ids) AND state IN ('succeeded', 'failed')", new { ids }) < ids.Length)
        {
            await Task.Delay(100);
        }

        await victim.Process.ResumeAsync();
        kill.ThawedAt = DateTimeOffset.UtcNow;
        progress?.Invoke($"  SIGCONT to {victim} {(kill.ThawedAt - kill.At)?.TotalSeconds:F1} s later, once others had finished the claims it held");
    }

    /// <summary>Waits until the thawed victim has logged, for every claim it held, that it lost the claim or threw its result away.</summary>
    private static async Task WaitUntilTheThawedVictimGaveUpItsClaimsAsync(ServiceInstance victim, KillRecord kill)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline && kill.Held.Any(claim => !victim.GaveUpInLog.Contains(claim.Id)))
        {
            await Task.Delay(50);
        }
    }

    /// <summary>Long-polls every accepted task through nginx until it leaves PENDING or the deadline passes; the last status body of each.</summary>
    private static async Task<Dictionary<string, JsonElement?>> FollowToTheEndAsync(HttpClient http, List<string> ids, ChaosSettings settings)
    {
        var final = new ConcurrentDictionary<string, JsonElement?>();
        var until = DateTime.UtcNow + settings.FinishDeadline;
        var queue = new ConcurrentQueue<string>(ids);
        await Task.WhenAll(Enumerable.Range(0, settings.Concurrency).Select(async _ =>
        {
            while (queue.TryDequeue(out var id))
            {
                JsonElement? last = null;
                while (DateTime.UtcNow < until)
                {
                    try
                    {
                        var wait = Math.Clamp((int)(until - DateTime.UtcNow).TotalSeconds, 1, 20);
                        using var response = await http.GetAsync($"{Api}/{id}?wait={wait}");
                        last = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
                        if (response.StatusCode != HttpStatusCode.OK || last.Value.GetProperty("task_status").GetString() != "PENDING")
                        {
                            break;
                        }
                    }
                    catch (Exception problem) when (problem is HttpRequestException or TaskCanceledException or JsonException)
                    {
                        await Task.Delay(200);
                    }
                }

                final[id] = last;
            }
        }));
        return final.ToDictionary(pair => pair.Key, pair => pair.Value);
    }

    private static async Task<Dictionary<string, ChaosTaskRow>> RowsAsync(ScaledOutCluster cluster)
    {
        await using var connection = await cluster.OpenAsync();
        return (await connection.QueryAsync<ChaosTaskRow>(
            """
            SELECT id, state, attempts, lease_owner AS leaseowner, lease_token AS leasetoken, thumbnail_type AS thumbnailtype, thumbnail_key AS thumbnailkey,
                   thumbnail_etag AS thumbnailetag, thumbnail_bytes AS thumbnailbytes, created_at AS createdat,
                   started_at AS startedat, completed_at AS completedat, error_code AS errorcode
            FROM tasks
            """)).ToDictionary(row => row.Id);
    }

    /// <summary>Downloads the thumbnail of every accepted task that ended SUCCESS, through nginx, and checks it against its status and row.</summary>
    private static async Task<Dictionary<string, string?>> DownloadAllAsync(HttpClient http, Dictionary<string, JsonElement?> final, Dictionary<string, ChaosTaskRow> rows)
    {
        var problems = new ConcurrentDictionary<string, string?>();
        var succeeded = new ConcurrentQueue<(string Id, JsonElement Status)>(final
            .Where(pair => pair.Value?.GetProperty("task_status").GetString() == "SUCCESS")
            .Select(pair => (pair.Key, pair.Value!.Value)));
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            while (succeeded.TryDequeue(out var task))
            {
                problems[task.Id] = await CheckDownloadAsync(http, task.Id, task.Status, rows.GetValueOrDefault(task.Id));
            }
        }));
        return problems.ToDictionary(pair => pair.Key, pair => pair.Value);
    }

    /// <summary>Null when the thumbnail is whole and is the one the task recorded; otherwise what is wrong.</summary>
    private static async Task<string?> CheckDownloadAsync(HttpClient http, string id, JsonElement status, ChaosTaskRow? row)
    {
        try
        {
            using var response = await http.GetAsync($"{Api}/{id}/thumbnail");
            var bytes = await response.Content.ReadAsByteArrayAsync();
            var image = status.GetProperty("image");
            var served = response.Headers.ETag?.Tag;
            var computed = $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 16))}\"";
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return $"download answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(bytes.AsSpan(0, Math.Min(bytes.Length, 300)))}";
            }

            using var codec = SKCodec.Create(new MemoryStream(bytes)); // null for bytes that are no image (SKBitmap.Decode would throw)
            using var bitmap = codec is null ? null : SKBitmap.Decode(codec);
            return response.StatusCode != HttpStatusCode.OK ? $"download answered {(int)response.StatusCode}"
                : row is null ? "no row"
                : served != row.ThumbnailEtag ? $"ETag {served} but the row says {row.ThumbnailEtag}"
                : computed != served ? $"the bytes hash to {computed}, not to their ETag {served}"
                : bytes.Length != image.GetProperty("size_bytes").GetInt64() ? $"{bytes.Length} bytes, the status says {image.GetProperty("size_bytes").GetInt64()}"
                : response.Content.Headers.ContentType?.MediaType != row.ThumbnailType ? $"served as {response.Content.Headers.ContentType?.MediaType}, recorded as {row.ThumbnailType}"
                : bitmap is null ? "does not decode"
                : bitmap.Width != image.GetProperty("width").GetInt32() || bitmap.Height != image.GetProperty("height").GetInt32()
                    ? $"decodes to {bitmap.Width}x{bitmap.Height}, the status says {image.GetProperty("width")}x{image.GetProperty("height")}"
                : null;
        }
        catch (HttpRequestException problem)
        {
            return problem.Message;
        }
    }

    /// <summary>When the victim died, what it had done and the claims it held then (filled in by the killer; read once the run is over).</summary>
    public sealed class KillRecord
    {
        private volatile bool _givenUp;

        public DateTimeOffset? At { get; set; }

        public int AcceptedBefore { get; set; }

        public int VictimSucceeded { get; set; }

        public IReadOnlyList<HeldClaim> Held { get; set; } = [];

        /// <summary>When a frozen victim was let run on (SIGCONT); null when it was killed.</summary>
        public DateTimeOffset? ThawedAt { get; set; }

        internal bool GivenUp => _givenUp;

        internal void GiveUp() => _givenUp = true;
    }
}

/// <summary>One upload: its number (a retry has its upload's), file, HTTP status (0: no answer), task id of a 202, error code or failure, when it was sent and answered, and whether the victim was dead by then.</summary>
public sealed record ChaosUpload(int Index, string File, int Status, string? TaskId, string? Problem, DateTimeOffset Sent, DateTimeOffset Answered, bool AfterKill);

/// <summary>One long-poll through nginx: when it started and was answered, with what HTTP status (0: no answer) and task status.</summary>
public sealed record ChaosLongPoll(string TaskId, DateTimeOffset Started, DateTimeOffset Answered, int Status, string? TaskStatus, string? Problem);

/// <summary>A claim the victim held when it died: the task, the lease token and when that lease ran out (Unix ms).</summary>
public sealed record HeldClaim(string Id, string Token, long ExpiresAt);

/// <summary>A task row as the run left it.</summary>
public sealed record ChaosTaskRow(
    string Id, string State, int Attempts, string? LeaseOwner, string? LeaseToken, string? ThumbnailType, string? ThumbnailKey, string? ThumbnailEtag,
    long? ThumbnailBytes, long CreatedAt, long? StartedAt, long? CompletedAt, string? ErrorCode);

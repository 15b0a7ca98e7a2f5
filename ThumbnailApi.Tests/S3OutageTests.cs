using System.Net;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// The service with its blobs in an S3 bucket whose server goes away for a few seconds and comes back
/// (s3rver of its own, SIGKILLed, then restarted on the same port with the same objects): uploads get
/// a quick 503 storage_unavailable meanwhile, nothing accepted is lost or failed, and the service
/// recovers by itself. And through all of it, the credentials appear in no log line and no answer.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class S3OutageTests
{
    /// <summary>The longest any upload may wait for its answer, outage or not: the 503 must come at once, not after the client gave up.</summary>
    private static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan OutageLength = TimeSpan.FromSeconds(3);

    private S3Server _s3 = null!;
    private string _bucket = null!;
    private CapturedLogs _logs = null!;

    [SetUp]
    public async Task StartAnS3ServerOfItsOwn()
    {
        Requires.S3(); // skips (or fails in CI) where s3rver is missing
        _s3 = await S3Server.StartAsync(); // not the shared one: this one is killed
        _bucket = await _s3.CreateBucketAsync();
        _logs = new CapturedLogs();
    }

    [TearDown]
    public void StopTheS3Server()
    {
        _s3?.Stop();
        _logs?.Dispose();
    }

    [Test]
    public async Task While_the_S3_server_is_down_uploads_are_503_storage_unavailable_at_once_and_every_accepted_upload_still_ends_with_its_thumbnail()
    {
        using var gate = new GatedThumbnailer();
        using var factory = Service(s => s.AddSingleton<IThumbnailer>(gate));
        using var client = factory.CreateApiClient();

        // Accepted before the outage, and held by its worker with its upload already read: the outage
        // hits it when its thumbnail is stored.
        var held = await client.UploadAsync(TestImages.Path("photo.jpg"), UploadStream.UniqueSize(0));
        await gate.WaitUntilHeldAsync();
        await using var stream = UploadStream.Start(client, TestImages.Path("photo.jpg"));
        Assert.That(await Eventually.TrueAsync(() => stream.Accepted.Count >= 5), Is.True, "uploads are accepted before the outage");

        _s3.Kill();
        var down = DateTimeOffset.UtcNow;
        gate.Open();
        using var refused = await client.PostFileAsync(TestImages.Path("photo.jpg"), fields: UploadStream.UniqueSize(99_999));
        var (readyWhileDown, readyBodyWhileDown) = await ReadinessAsync(client);
        var outageSeen = await Eventually.TrueAsync(
            () => DateTimeOffset.UtcNow - down >= OutageLength
                  && StorageWaits(held) > 0
                  && stream.Answers.Count(answer => answer.Sent > down && answer.Status == HttpStatusCode.ServiceUnavailable) >= 3,
            TimeSpan.FromSeconds(30));
        var restarting = DateTimeOffset.UtcNow;
        await _s3.RestartAsync();
        var up = DateTimeOffset.UtcNow;
        var acceptedAgain = await Eventually.TrueAsync(() => stream.Answers.Count(answer => answer.Sent > up && answer.TaskId is not null) >= 5, TimeSpan.FromSeconds(30));
        await stream.StopAsync();

        var refusedBody = await ErrorResponseTests.AssertErrorAsync(refused, HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        Assert.That(refused.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(refusedBody.ToString(), Does.Not.Contain(_bucket).And.Not.Contain(_s3.ServiceUrl), "the answer names no bucket or address");
        Assert.That(readyWhileDown, Is.EqualTo(HttpStatusCode.ServiceUnavailable), readyBodyWhileDown.ToString());
        Assert.That(readyBodyWhileDown.GetProperty("checks").GetProperty("data_folder").GetProperty("status").GetString(), Is.EqualTo("unhealthy"));
        Assert.That(outageSeen, Is.True, "in the outage, the held task's worker found the store down and uploads were refused");
        Assert.That(acceptedAgain, Is.True, "uploads are accepted again once the server is back");

        var answers = stream.Answers;
        TestContext.Out.WriteLine($"{answers.Count} uploads streamed: {answers.Count(a => a.TaskId is not null)} accepted, "
                                  + $"{answers.Count(a => a.Status == HttpStatusCode.ServiceUnavailable)} refused 503; server down {(restarting - down).TotalSeconds:F1} s, back after {(up - down).TotalSeconds:F1} s; "
                                  + $"slowest answer {answers.Max(a => a.Took).TotalMilliseconds:F0} ms");
        Assert.Multiple(() =>
        {
            Assert.That(answers.Where(a => a.Status != HttpStatusCode.Accepted && (a.Status, a.Code) != (HttpStatusCode.ServiceUnavailable, "storage_unavailable")),
                Is.Empty, "every upload is accepted or refused with 503 storage_unavailable");
            Assert.That(answers.Where(a => a.Sent > down && a.Answered < restarting && a.Status != HttpStatusCode.ServiceUnavailable),
                Is.Empty, "no upload sent while the server was down is accepted: a 202 means the bytes are stored");
            Assert.That(answers.Where(a => a.Status == HttpStatusCode.ServiceUnavailable && a.RetryAfter != TimeSpan.FromSeconds(1)), Is.Empty, "each 503 has Retry-After");
            Assert.That(answers.Where(a => a.Took > AnswerBound), Is.Empty, $"every upload is answered within {AnswerBound.TotalSeconds} s");
        });

        foreach (var id in stream.Accepted.Prepend(held))
        {
            var done = await client.WaitUntilFinishedAsync(id, TimeSpan.FromSeconds(60));
            Assert.That(done.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"), $"{id}: {done}");
            using var thumbnail = await client.Http.GetAsync($"{ApiClient.Api}/{id}/thumbnail");
            Assert.That(thumbnail.StatusCode, Is.EqualTo(HttpStatusCode.OK), id);
            using var bitmap = SkiaSharp.SKBitmap.Decode(await thumbnail.Content.ReadAsByteArrayAsync());
            Assert.That(bitmap, Is.Not.Null, $"{id}: the thumbnail decodes");
        }

        using (var db = factory.OpenDatabase())
        {
            Assert.That(db.ExecuteScalar<long>("SELECT attempts FROM tasks WHERE id = @held", new { held }), Is.EqualTo(1),
                "the tries the outage spoiled were not counted as attempts");
        }

        Assert.That(await Eventually.TrueAsync(async () => (await ReadinessAsync(client)).Status == HttpStatusCode.OK, TimeSpan.FromSeconds(20)),
            Is.True, "/readyz is healthy again by itself");
        Assert.That(await Eventually.TrueAsync(() => !Directory.EnumerateFiles(Path.Combine(factory.DataPath, "scratch")).Any()), Is.True,
            "no scratch file is left behind by the refused uploads and the retried tasks");
    }

    [Test]
    public async Task Three_instances_behind_nginx_one_of_them_killed_ride_out_an_S3_outage_and_every_accepted_upload_ends_with_one_whole_thumbnail()
    {
        // The chaos scenario with blobs in this test's bucket and a data folder per instance; the S3
        // server is also down for 3 s once half the uploads were accepted. Storage is retried every
        // 5 s (the default), longer than the 4 s lease. Refused uploads are sent again after 1 s.
        await using var cluster = await ChaosTests.StartThreeInstancesBehindNginxAsync(new S3Bucket(_s3, _bucket));

        var report = await ChaosTests.RunAsync(cluster, new ChaosSettings { Uploads = 300, Concurrency = 8, LongPollers = 4, StoreOutage = OutageLength });

        Assert.Multiple(() =>
        {
            ChaosTests.AssertTheVictimHadWorkedAndHeldClaims(report);
            Assert.That(report.OutageProblems, Is.Empty,
                "while the server was down uploads were refused with 503 storage_unavailable at once, and /readyz said so; after, uploads were accepted and /readyz was healthy again");
            Assert.That(report.Accepted, Has.Count.GreaterThanOrEqualTo(280), "the refused uploads, sent again, were accepted once the server was back");
            ChaosTests.AssertNothingLostAndNothingDoneTwice(report);
        });
    }

    [Test]
    public async Task A_task_that_waits_out_an_outage_longer_than_its_lease_is_not_taken_for_a_crash()
    {
        // Storage is retried every 5 s, a lease lasts 3 s, and two abandoned claims make a crash.
        using var gate = new GatedThumbnailer();
        using var factory = Service(s => s.AddSingleton<IThumbnailer>(gate), new()
        {
            ["ThumbnailApi:RetryAfterSeconds"] = "5", ["ThumbnailApi:LeaseSeconds"] = "3", ["ThumbnailApi:MaxAttempts"] = "2",
        });
        using var client = factory.CreateApiClient();
        var id = await client.UploadAsync(TestImages.Path("photo.jpg"));
        await gate.WaitUntilHeldAsync();

        _s3.Kill();
        var down = DateTimeOffset.UtcNow;
        gate.Open();
        // Down for three leases: long enough for two claims to be taken for abandoned if the waiting one's lease ran out.
        var waited = await Eventually.TrueAsync(() => DateTimeOffset.UtcNow - down > TimeSpan.FromSeconds(9) && StorageWaits(id) > 0, TimeSpan.FromSeconds(30));
        var (_, whileDown) = await client.GetStatusAsync(id);
        await _s3.RestartAsync();
        var done = await client.WaitUntilFinishedAsync(id, TimeSpan.FromSeconds(30));

        Assert.That(waited, Is.True, "the worker found the store down");
        Assert.That(whileDown.GetProperty("task_status").GetString(), Is.EqualTo("PENDING"), whileDown.ToString());
        Assert.That(done.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"), done.ToString());
        Assert.That(_logs.Lines.Where(line => line.Category.EndsWith("AbandonedTaskReaper", StringComparison.Ordinal) && line.Level >= LogLevel.Warning),
            Is.Empty, "the waiting claim kept its lease: nothing was taken for abandoned");
        using var db = factory.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT attempts FROM tasks WHERE id = @id", new { id }), Is.EqualTo(1));
    }

    [Test]
    public async Task The_access_key_id_and_secret_appear_in_no_log_line_no_readiness_answer_and_no_error_body_even_through_an_outage()
    {
        using var factory = Service();
        using var client = factory.CreateApiClient();
        var answers = new List<string>();

        var id = await client.UploadAsync(TestImages.Path("photo.jpg"));
        await client.WaitUntilFinishedAsync(id);
        using (var download = await client.Http.GetAsync($"{ApiClient.Api}/{id}/thumbnail"))
        {
            Assert.That(download.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        answers.Add((await ReadinessAsync(client)).Body.ToString());
        _s3.Kill();
        answers.Add((await ReadinessAsync(client)).Body.ToString());
        using (var refused = await client.PostFileAsync(TestImages.Path("alpha.png")))
        {
            answers.Add((await ErrorResponseTests.AssertErrorAsync(refused, HttpStatusCode.ServiceUnavailable, "storage_unavailable")).ToString());
        }

        using (var unreadable = await client.Http.GetAsync($"{ApiClient.Api}/{id}/thumbnail"))
        {
            answers.Add($"{(int)unreadable.StatusCode} {await unreadable.Content.ReadAsStringAsync()}");
        }

        await _s3.RestartAsync();
        Assert.That(await Eventually.TrueAsync(async () => (await ReadinessAsync(client)).Status == HttpStatusCode.OK, TimeSpan.FromSeconds(20)), Is.True);
        answers.Add((await ReadinessAsync(client)).Body.ToString());
        var again = await client.UploadAsync(TestImages.Path("alpha.png"));
        Assert.That((await client.WaitUntilFinishedAsync(again)).GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));

        var lines = _logs.Lines;
        Assert.That(lines.Where(line => line.Level >= LogLevel.Warning), Is.Not.Empty, "the outage was logged (so there was something to search)");
        var logged = lines.Select(line => $"{line} {string.Join(" ", line.State.Select(pair => $"{pair.Key}={pair.Value}"))}").ToList();
        foreach (var secret in (string[])[S3Server.SecretKey, S3Server.AccessKey])
        {
            Assert.That(logged.Where(line => line.Contains(secret, StringComparison.OrdinalIgnoreCase)), Is.Empty, $"{secret} in a log line");
            Assert.That(answers.Where(answer => answer.Contains(secret, StringComparison.OrdinalIgnoreCase)), Is.Empty, $"{secret} in an answer");
        }
    }

    /// <summary>The service in-process, its blobs in this test's bucket, retrying storage every second, every log line captured.</summary>
    private ThumbnailApiFactory Service(Action<IServiceCollection>? services = null, Dictionary<string, string?>? more = null)
    {
        var settings = _s3.ServiceSettings(_bucket);
        settings["ThumbnailApi:RetryAfterSeconds"] = "1";
        settings["Logging:LogLevel:Default"] = "Trace";
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        return new ThumbnailApiFactory(settings, s =>
        {
            s.AddSingleton<ILoggerProvider>(_logs);
            services?.Invoke(s);
        });
    }

    /// <summary>How often the worker logged that storage failed this task and put it back in the queue.</summary>
    private int StorageWaits(string taskId) => _logs.Lines.Count(line => line.EventId.Id == 1009 && (string?)line["TaskId"] == taskId);

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadinessAsync(ApiClient client)
    {
        using var response = await client.Http.GetAsync("/readyz");
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }
}

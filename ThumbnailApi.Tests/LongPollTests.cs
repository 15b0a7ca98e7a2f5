using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary><c>GET …/{id}?wait=N</c>: the answer comes when the task finishes, not by polling.</summary>
[TestFixture]
public sealed class LongPollTests
{
    [Test]
    public async Task A_waiting_status_request_is_answered_within_100_ms_of_the_worker_committing_the_result()
    {
        var gaps = new List<double>();
        for (var trial = 0; trial < 5; trial++)
        {
            using var service = new GatedService();
            var id = await service.UploadHeldAsync("photo.jpg");

            var waiting = service.Client.GetStatusAsync(id, wait: "30");
            await service.WaitersAsync(1);
            service.Gate.Open();
            var (status, body) = await waiting;
            var answeredAt = DateTimeOffset.UtcNow;

            Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(body.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"), body.ToString());
            // completed_at is taken just before the commit, so this gap slightly overstates the wake-up time.
            gaps.Add((answeredAt - body.GetProperty("completed_at").GetDateTimeOffset()).TotalMilliseconds);
        }

        gaps.Sort();
        TestContext.Out.WriteLine($"commit → response gaps (ms): {string.Join(", ", gaps.Select(gap => gap.ToString("F1")))}");
        Assert.That(gaps[gaps.Count / 2], Is.LessThanOrEqualTo(100), "median gap between the commit and the answer");
    }

    [Test]
    public async Task A_wait_that_runs_out_answers_pending()
    {
        using var service = new GatedService();
        var id = await service.UploadHeldAsync("photo.jpg");

        var watch = Stopwatch.StartNew();
        var (status, body) = await service.Client.GetStatusAsync(id, wait: "1");

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body.GetProperty("task_status").GetString(), Is.EqualTo("PENDING"));
        Assert.That(body.GetProperty("stage").GetString(), Is.EqualTo("processing"));
        Assert.That(watch.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(950)), "it waited for the task first");
        Assert.That(service.Signals.WaiterCount, Is.Zero, "the waiter left");
    }

    [Test]
    public async Task A_thousand_concurrent_waiting_requests_are_all_answered_when_the_task_finishes()
    {
        using var service = new GatedService();
        var id = await service.UploadHeldAsync("photo.jpg");

        var waiting = Enumerable.Range(0, 1000).Select(_ => service.Client.GetStatusAsync(id, wait: "30")).ToArray();
        await service.WaitersAsync(1000);
        var threads = ThreadPool.ThreadCount;
        service.Gate.Open();
        var answers = await Task.WhenAll(waiting).WaitAsync(TimeSpan.FromSeconds(30));

        TestContext.Out.WriteLine($"thread-pool threads while 1000 requests waited: {threads}");
        Assert.That(threads, Is.LessThan(200), "waiting costs no thread per request");
        Assert.That(answers.Select(answer => answer.Body.GetProperty("task_status").GetString()).Distinct(), Is.EqualTo(new[] { "SUCCESS" }));
        Assert.That(service.Signals.SignalCount, Is.Zero, "the signal is gone with its waiters");
    }

    [Test]
    public async Task Over_the_waiter_cap_a_status_request_is_answered_at_once_with_the_current_status()
    {
        using var service = new GatedService(new Dictionary<string, string?> { ["ThumbnailApi:LongPollMaxWaiters"] = "1" });
        var id = await service.UploadHeldAsync("photo.jpg");
        var first = service.Client.GetStatusAsync(id, wait: "30");
        await service.WaitersAsync(1);

        var (status, body) = await service.Client.GetStatusAsync(id, wait: "30").WaitAsync(TimeSpan.FromSeconds(20));

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body.GetProperty("task_status").GetString(), Is.EqualTo("PENDING"));
        Assert.That(first.IsCompleted, Is.False, "the first request is still waiting");
        service.Gate.Open();
        Assert.That((await first).Body.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
    }

    [Test]
    public async Task A_failed_task_wakes_its_waiters_with_the_failure()
    {
        using var service = new GatedService();
        var id = await service.UploadHeldAsync("damaged/truncated.jpg");

        var waiting = service.Client.GetStatusAsync(id, wait: "30");
        await service.WaitersAsync(1);
        service.Gate.Open();
        var (_, body) = await waiting.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.That(body.GetProperty("task_status").GetString(), Is.EqualTo("FAILED"), body.ToString());
        Assert.That(body.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("corrupt_image"));
    }

    [Test]
    public async Task A_finished_or_unknown_task_is_answered_at_once_even_with_a_wait()
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateApiClient();
        var id = await client.UploadAsync(TestImages.Path("photo.jpg"));
        await client.WaitUntilFinishedAsync(id);

        var finished = await client.GetStatusAsync(id, wait: "30").WaitAsync(TimeSpan.FromSeconds(20));
        var unknown = await client.GetStatusAsync(new string('a', 32), wait: "30").WaitAsync(TimeSpan.FromSeconds(20));

        Assert.That(finished.Body.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
        Assert.That(unknown.Status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(unknown.Body.GetProperty("code").GetString(), Is.EqualTo("task_not_found"));
    }

    [TestCase("31")]
    [TestCase("-1")]
    [TestCase("abc")]
    [TestCase("")]
    [TestCase("1e3")]
    public async Task A_wait_that_is_not_a_number_from_0_to_30_is_a_400_that_names_it(string wait)
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateApiClient();

        using var response = await client.Http.GetAsync($"{ApiClient.Api}/{new string('a', 32)}?wait={wait}");

        var body = await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_option");
        Assert.That(body.GetProperty("field").GetString(), Is.EqualTo("wait"));
    }

    [TestCase("NaN")]
    [TestCase("nan")]
    [TestCase("-Infinity")]
    [TestCase("Infinity")]
    [TestCase("%2BInfinity")]
    [TestCase("%E2%88%9E")]
    [TestCase("1e400")]
    [TestCase("-0.5")]
    public async Task A_wait_of_nan_infinity_or_a_negative_number_is_a_400_that_names_it_and_logs_no_error(string wait)
    {
        var logs = new CapturedLogs();
        using var factory = new ThumbnailApiFactory(services: services => services.AddSingleton<ILoggerProvider>(logs));
        using var client = factory.CreateApiClient();

        using var response = await client.Http.GetAsync($"{ApiClient.Api}/{new string('a', 32)}?wait={wait}");

        var body = await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_option");
        Assert.That(body.GetProperty("field").GetString(), Is.EqualTo("wait"));
        Assert.That(logs.Lines.Where(line => line.Level >= LogLevel.Error), Is.Empty);
    }
}

using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// The per-task deadline: a task that runs past it is FAILED processing_timeout, and its worker is
/// free for the next task only once the work has really stopped, so WorkerCount bounds the decoding
/// that goes on at once.
/// </summary>
[TestFixture]
public sealed class ProcessingDeadlineTests
{
    private static readonly Dictionary<string, string?> OneWorkerOneSecond = new()
    {
        ["ThumbnailApi:WorkerCount"] = "1",
        ["ThumbnailApi:ProcessingTimeoutSeconds"] = "1",
    };

    private static readonly Dictionary<string, string> Stall = new() { ["width"] = $"{StallingThumbnailer.StallWidth}" };

    [Test]
    public async Task A_task_past_its_deadline_is_failed_with_processing_timeout_once_its_work_stops_and_its_worker_takes_the_next_task()
    {
        using var stalling = new StallingThumbnailer(cooperative: true);
        using var factory = new ThumbnailApiFactory(OneWorkerOneSecond, s => s.AddSingleton<IThumbnailer>(stalling));
        using var client = factory.CreateApiClient();

        var stuck = await client.UploadAsync(TestImages.Path("photo.jpg"), Stall);
        var next = await client.UploadAsync(TestImages.Path("alpha.png"));

        var timedOut = await client.WaitUntilFinishedAsync(stuck);
        Assert.That(timedOut.GetProperty("task_status").GetString(), Is.EqualTo("FAILED"));
        Assert.That(timedOut.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("processing_timeout"));
        Assert.That(stalling.Running, Is.Zero, "the task is reported failed only after its work stopped");
        Assert.That((await client.WaitUntilFinishedAsync(next)).GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
    }

    [Test]
    public async Task A_worker_whose_work_ignores_the_deadline_takes_no_other_task_until_that_work_has_ended()
    {
        using var stalling = new StallingThumbnailer(cooperative: false);
        using var factory = new ThumbnailApiFactory(OneWorkerOneSecond, s => s.AddSingleton<IThumbnailer>(stalling));
        using var client = factory.CreateApiClient();

        var stuck = await client.UploadAsync(TestImages.Path("photo.jpg"), Stall);
        var next = await client.UploadAsync(TestImages.Path("alpha.png"));
        await stalling.DeadlineSeen.WaitAsync(TimeSpan.FromSeconds(10));

        // Past the deadline the stubborn work goes on: the only worker must not start the next task meanwhile.
        var started = await Eventually.TrueAsync(async () => StageOf((await client.GetStatusAsync(next)).Body) != "queued", TimeSpan.FromSeconds(1.5));
        Assert.That(started, Is.False, "the next task started while the timed-out work still ran");
        Assert.That(StatusOf((await client.GetStatusAsync(stuck)).Body), Is.EqualTo("PENDING"), "reported only once the work has stopped");
        var ready = await client.Http.GetStringAsync("/readyz");
        Assert.That(JsonDocument.Parse(ready).RootElement.GetProperty("checks").GetProperty("workers").GetProperty("data").GetProperty("busy").GetInt32(), Is.EqualTo(1));

        stalling.Release();
        var timedOut = await client.WaitUntilFinishedAsync(stuck);
        Assert.That(timedOut.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("processing_timeout"));
        Assert.That(StatusOf(await client.WaitUntilFinishedAsync(next)), Is.EqualTo("SUCCESS"));
    }

    private static string? StatusOf(JsonElement body) => body.GetProperty("task_status").GetString();

    private static string? StageOf(JsonElement body) => body.TryGetProperty("stage", out var stage) ? stage.GetString() : StatusOf(body);
}

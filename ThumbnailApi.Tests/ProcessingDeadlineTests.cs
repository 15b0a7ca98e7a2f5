using Microsoft.Extensions.DependencyInjection;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>The per-task deadline: a task that runs past it is FAILED processing_timeout, and its worker takes the next task.</summary>
[TestFixture]
public sealed class ProcessingDeadlineTests
{
    [Test]
    public async Task A_task_past_its_deadline_is_failed_with_processing_timeout_and_its_worker_goes_on_to_the_next_task()
    {
        using var stalling = new StallingThumbnailer();
        using var factory = new ThumbnailApiFactory(
            new Dictionary<string, string?> { ["ThumbnailApi:WorkerCount"] = "1", ["ThumbnailApi:ProcessingTimeoutSeconds"] = "1" },
            s => s.AddSingleton<IThumbnailer>(stalling));
        using var client = factory.CreateApiClient();

        var stuck = await client.UploadAsync(TestImages.Path("photo.jpg"), new Dictionary<string, string> { ["width"] = $"{StallingThumbnailer.StallWidth}" });
        var next = await client.UploadAsync(TestImages.Path("alpha.png"));

        var timedOut = await client.WaitUntilFinishedAsync(stuck);
        Assert.That(timedOut.GetProperty("task_status").GetString(), Is.EqualTo("FAILED"));
        Assert.That(timedOut.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("processing_timeout"));
        Assert.That((await client.WaitUntilFinishedAsync(next)).GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"),
            "the only worker was freed while the stuck task still runs");
    }
}

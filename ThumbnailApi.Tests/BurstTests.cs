using System.Net;
using System.Text.Json;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// Four times the queue capacity at once: only 202 and 503 queue_full with Retry-After, and every
/// 202 reaches SUCCESS. (tools/burst.sh does the same against a real process with the default
/// capacity and prints the memory it took.)
/// </summary>
[TestFixture]
public sealed class BurstTests
{
    [Test]
    public async Task Four_times_the_queue_capacity_at_once_gets_only_202_or_503_and_every_202_succeeds()
    {
        const int capacity = 25;
        using var service = new GatedService(
            new Dictionary<string, string?>
            {
                ["ThumbnailApi:QueueCapacity"] = $"{capacity}",
                ["ThumbnailApi:WorkerCount"] = "1",
                // All at once from one address: the caps on uploads in progress would answer first (UploadConcurrencyTests).
                ["ThumbnailApi:MaxConcurrentUploadsPerClient"] = "0",
                ["ThumbnailApi:MaxConcurrentUploads"] = "0",
            });
        var client = service.Client;
        var files = new[] { "photo.jpg", "alpha.png", "photo.tif", "photo.bmp", "photo.gif", "photo.webp" };

        var answers = await Task.WhenAll(Enumerable.Range(0, 4 * capacity).Select(async i =>
        {
            using var response = await client.PostFileAsync(TestImages.Path(files[i % files.Length]));
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            return (response.StatusCode, Body: body, RetryAfter: response.Headers.RetryAfter?.Delta);
        }));
        service.Gate.Open();

        var accepted = answers.Where(a => a.StatusCode == HttpStatusCode.Accepted).Select(a => a.Body.GetProperty("task_id").GetString()!).ToList();
        var refused = answers.Where(a => a.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.That(accepted.Count + refused.Count, Is.EqualTo(answers.Length), "nothing but 202 and 503");
        Assert.That(accepted, Has.Count.InRange(capacity, capacity + 1), "the queue, plus the one task the held worker took");
        Assert.That(refused.Select(r => r.Body.GetProperty("code").GetString()), Is.All.EqualTo("queue_full"));
        Assert.That(refused.Select(r => r.RetryAfter), Is.All.EqualTo(TimeSpan.FromSeconds(5)));
        var outcomes = await Task.WhenAll(accepted.Select(id => client.WaitUntilFinishedAsync(id, TimeSpan.FromSeconds(60))));
        Assert.That(outcomes.Select(o => o.GetProperty("task_status").GetString()), Is.All.EqualTo("SUCCESS"));
    }
}

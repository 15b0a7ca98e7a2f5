using System.Net;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>The per-client upload limit: ASP.NET Core's rate limiter, a 429 JSON with Retry-After past it.</summary>
[TestFixture]
public sealed class UploadRateLimitTests
{
    [Test]
    public async Task Uploads_past_the_per_client_limit_get_a_429_rate_limited_with_retry_after()
    {
        using var factory = new ThumbnailApiFactory(new Dictionary<string, string?> { ["ThumbnailApi:UploadsPerMinutePerClient"] = "2" });
        using var client = factory.CreateApiClient();

        var first = await client.UploadAsync(TestImages.Path("photo.jpg"));
        await client.UploadAsync(TestImages.Path("photo.jpg"));
        using var refused = await client.PostFileAsync(TestImages.Path("photo.jpg"));

        var body = await ErrorResponseTests.AssertErrorAsync(refused, HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.That(refused.Headers.RetryAfter?.Delta, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)).And.LessThanOrEqualTo(TimeSpan.FromSeconds(30)));
        Assert.That(body.GetProperty("message").GetString(), Does.Contain("Retry-After"));
        Assert.That((await client.WaitUntilFinishedAsync(first)).GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"),
            "status requests are not limited");
    }

    [Test]
    public void By_default_a_burst_of_four_times_the_queue_capacity_and_its_retries_meets_the_queue_limit_not_the_rate_limit()
    {
        var defaults = new ServiceOptions();

        Assert.That(defaults.UploadsPerMinutePerClient, Is.GreaterThanOrEqualTo(2 * 4 * defaults.QueueCapacity),
            "a client that sends 4 × the queue capacity at once and then retries every 503 is answered 202 or 503, never 429");
    }

    [Test]
    public async Task The_default_limit_lets_a_client_send_a_generous_burst()
    {
        // The default per-minute limit; the caps on uploads in progress at once are off (UploadConcurrencyTests).
        using var factory = new ThumbnailApiFactory(new Dictionary<string, string?>
        {
            ["ThumbnailApi:MaxConcurrentUploadsPerClient"] = "0",
            ["ThumbnailApi:MaxConcurrentUploads"] = "0",
        });
        using var client = factory.CreateApiClient();

        var answers = await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
        {
            using var response = await client.PostFileAsync(TestImages.Path("alpha.png"));
            return response.StatusCode;
        }));

        Assert.That(answers, Is.All.EqualTo(HttpStatusCode.Accepted));
    }
}

using System.Net;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>/metrics in Prometheus text: the service's own counters, gauges and histograms move with the work.</summary>
[TestFixture]
public sealed class MetricsTests
{
    [Test]
    public async Task The_metrics_name_the_service()
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateApiClient();

        var text = await client.Http.GetStringAsync("/metrics");

        Assert.That(text, Does.Not.Contain("unknown_service"));
        Assert.That(text, Does.Match("target_info\\{[^}]*service_name=\"thumbnailapi\""), text.Split('\n').FirstOrDefault(line => line.StartsWith("target_info")) ?? "no target_info");
    }

    [Test]
    public async Task Uploads_tasks_bytes_and_timings_are_counted_after_some_uploads()
    {
        using var factory = new ThumbnailApiFactory(new Dictionary<string, string?> { ["ThumbnailApi:WorkerCount"] = "2" });
        using var client = factory.CreateApiClient();
        var before = await ScrapeAsync(client.Http);

        string[] good = ["photo.jpg", "alpha.png"];
        var ids = new List<string>();
        foreach (var file in good)
        {
            ids.Add(await client.UploadAsync(TestImages.Path(file)));
        }

        ids.Add(await client.UploadAsync(TestImages.Path("damaged/truncated.jpg")));
        using (var text = await client.PostFileAsync(TestImages.Path("disguised/text.jpg")))
        {
            Assert.That(text.StatusCode, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
        }

        using (var badOption = await client.PostFileAsync(TestImages.Path("photo.jpg"), fields: new Dictionary<string, string> { ["fit"] = "squash" }))
        {
            Assert.That(badOption.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        }

        long producedBytes = 0;
        foreach (var id in ids)
        {
            var status = await client.WaitUntilFinishedAsync(id);
            if (status.TryGetProperty("image", out var image))
            {
                producedBytes += image.GetProperty("size_bytes").GetInt64();
            }
        }

        var after = await ScrapeAsync(client.Http);
        double Moved(string name, params (string, string)[] labels) => after.Value(name, labels) - before.Value(name, labels);

        Assert.Multiple(() =>
        {
            Assert.That(Moved("thumbnail_uploads_total", ("outcome", "accepted")), Is.EqualTo(3));
            Assert.That(Moved("thumbnail_uploads_total", ("outcome", "unsupported_format")), Is.EqualTo(1));
            Assert.That(Moved("thumbnail_uploads_total", ("outcome", "invalid_option")), Is.EqualTo(1));
            Assert.That(Moved("thumbnail_tasks_total", ("task_status", "SUCCESS")), Is.EqualTo(2));
            Assert.That(Moved("thumbnail_tasks_total", ("task_status", "FAILED"), ("error_code", "corrupt_image")), Is.EqualTo(1));
            Assert.That(Moved("thumbnail_uploaded_bytes_total"),
                Is.EqualTo(good.Append("damaged/truncated.jpg").Sum(file => new FileInfo(TestImages.Path(file)).Length)));
            Assert.That(Moved("thumbnail_produced_bytes_total"), Is.EqualTo(producedBytes).And.Positive);
            Assert.That(Moved("thumbnail_queue_wait_seconds_count"), Is.EqualTo(3));
            Assert.That(Moved("thumbnail_processing_seconds_count"), Is.EqualTo(3));
            Assert.That(Moved("thumbnail_end_to_end_seconds_count"), Is.EqualTo(3));
            Assert.That(Moved("thumbnail_end_to_end_seconds_bucket", ("le", "+Inf")), Is.EqualTo(3));
            Assert.That(after.Value("thumbnail_end_to_end_seconds_sum"), Is.GreaterThanOrEqualTo(after.Value("thumbnail_processing_seconds_sum")));
        });
    }

    [Test]
    public async Task An_idempotent_retry_is_counted_as_replayed_not_as_a_second_upload()
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateApiClient();
        var before = await ScrapeAsync(client.Http);

        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var form = new MultipartFormDataContent { { new ByteArrayContent(TestImages.Bytes("alpha.png")), "image", "alpha.png" } };
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{ApiClient.Api}/") { Content = form };
            request.Headers.Add("Idempotency-Key", "metrics-retry-1");
            using var response = await client.Http.SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        }

        var after = await ScrapeAsync(client.Http);
        Assert.That(after.Value("thumbnail_uploads_total", ("outcome", "accepted")) - before.Value("thumbnail_uploads_total", ("outcome", "accepted")), Is.EqualTo(1));
        Assert.That(after.Value("thumbnail_uploads_total", ("outcome", "replayed")) - before.Value("thumbnail_uploads_total", ("outcome", "replayed")), Is.EqualTo(1));
        Assert.That(after.Value("thumbnail_uploaded_bytes_total") - before.Value("thumbnail_uploaded_bytes_total"), Is.EqualTo(TestImages.Bytes("alpha.png").Length));
    }

    [Test]
    public async Task A_task_given_an_earlier_identical_uploads_thumbnail_is_counted_as_reused()
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateApiClient();
        var before = await ScrapeAsync(client.Http);

        await client.WaitUntilFinishedAsync(await client.UploadAsync(TestImages.Path("alpha.png")));
        await client.WaitUntilFinishedAsync(await client.UploadAsync(TestImages.Path("alpha.png")));

        var after = await ScrapeAsync(client.Http);
        Assert.That(after.Value("thumbnail_reused_total") - before.Value("thumbnail_reused_total"), Is.EqualTo(1));
        Assert.That(after.Value("thumbnail_tasks_total", ("task_status", "SUCCESS")) - before.Value("thumbnail_tasks_total", ("task_status", "SUCCESS")), Is.EqualTo(2));
    }

    [Test]
    public async Task Queue_depth_and_worker_gauges_are_exported()
    {
        using var factory = new ThumbnailApiFactory(new Dictionary<string, string?>
        {
            ["ThumbnailApi:WorkerCount"] = "2",
            ["ThumbnailApi:QueueCapacity"] = "40",
        });
        using var client = factory.CreateApiClient();
        await client.WaitUntilFinishedAsync(await client.UploadAsync(TestImages.Path("alpha.png")));

        var metrics = await ScrapeAsync(client.Http);

        Assert.Multiple(() =>
        {
            Assert.That(metrics.Value("thumbnail_queue_depth"), Is.Zero);
            Assert.That(metrics.Value("thumbnail_queue_capacity"), Is.EqualTo(40));
            Assert.That(metrics.Value("thumbnail_workers_alive"), Is.EqualTo(2));
            Assert.That(metrics.Value("thumbnail_workers_busy"), Is.Zero);
            Assert.That(metrics.Has("http_server_request_duration_seconds_count"), Is.True, "ASP.NET Core's request metrics");
            Assert.That(metrics.Has("dotnet_gc_collections_total"), Is.True, ".NET runtime metrics");
        });
    }

    private static async Task<PrometheusText> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/metrics");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
        return new PrometheusText(await response.Content.ReadAsStringAsync());
    }
}

using System.Net;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>The Idempotency-Key header: a retried upload gets the same task, a reused key with another body is a 422.</summary>
[TestFixture]
public sealed class IdempotentUploadTests
{
    [Test]
    public async Task A_retry_with_the_same_key_returns_the_same_task_and_body_instead_of_a_second_one()
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateApiClient();
        var key = Guid.NewGuid().ToString();

        using var first = await client.PostWithKeyAsync(TestImages.Path("photo.jpg"), key);
        using var retry = await client.PostWithKeyAsync(TestImages.Path("photo.jpg"), key);

        var firstBody = await first.Content.ReadAsStringAsync();
        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), firstBody);
        Assert.That(retry.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        Assert.That(await retry.Content.ReadAsStringAsync(), Is.EqualTo(firstBody));
        Assert.That(retry.Headers.Location, Is.EqualTo(first.Headers.Location));
        Assert.That(first.Headers.Contains("Idempotent-Replayed"), Is.False);
        Assert.That(retry.Headers.GetValues("Idempotent-Replayed"), Is.EqualTo(new[] { "true" }));
        var id = JsonDocument.Parse(firstBody).RootElement.GetProperty("task_id").GetString()!;
        await client.WaitUntilFinishedAsync(id);
        Assert.That(TaskCount(factory), Is.EqualTo(1));
        Assert.That(await Eventually.TrueAsync(() => Directory.GetFiles(factory.UploadsPath).Length == 0), Is.True, "the retry's copy was not kept");
    }

    [Test]
    public async Task An_upload_without_a_key_or_with_another_key_is_a_new_task()
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateApiClient();

        var ids = new List<string>();
        foreach (var key in new[] { "key-1", "key-2", null, null })
        {
            using var response = key is null
                ? await client.PostFileAsync(TestImages.Path("photo.jpg"))
                : await client.PostWithKeyAsync(TestImages.Path("photo.jpg"), key);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            ids.Add(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("task_id").GetString()!);
        }

        Assert.That(ids.Distinct().Count(), Is.EqualTo(4));
    }

    [Test]
    public async Task The_same_key_with_another_image_or_other_options_is_a_422_and_the_same_options_spelled_out_are_not()
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateApiClient();
        using var first = await client.PostWithKeyAsync(TestImages.Path("photo.jpg"), "order-42");
        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));

        using var otherImage = await client.PostWithKeyAsync(TestImages.Path("alpha.png"), "order-42");
        using var otherOptions = await client.PostWithKeyAsync(TestImages.Path("photo.jpg"), "order-42", new Dictionary<string, string> { ["width"] = "50" });
        using var defaultsSpelledOut = await client.PostWithKeyAsync(TestImages.Path("photo.jpg"), "order-42",
            new Dictionary<string, string> { ["width"] = "100", ["height"] = "100", ["fit"] = "cover", ["format"] = "auto" });

        await ErrorResponseTests.AssertErrorAsync(otherImage, HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        await ErrorResponseTests.AssertErrorAsync(otherOptions, HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        Assert.That(defaultsSpelledOut.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        Assert.That(TaskCount(factory), Is.EqualTo(1));
    }

    [Test]
    public async Task A_key_first_used_more_than_24_hours_ago_starts_a_new_task()
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateApiClient();
        using var first = await client.PostWithKeyAsync(TestImages.Path("photo.jpg"), "daily");
        var firstId = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("task_id").GetString()!;
        using (var db = factory.OpenDatabase())
        {
            db.Execute("UPDATE tasks SET created_at = created_at - @hours25 WHERE id = @firstId", new { firstId, hours25 = 25 * 3_600_000L });
        }

        using var later = await client.PostWithKeyAsync(TestImages.Path("alpha.png"), "daily");

        Assert.That(later.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var laterId = JsonDocument.Parse(await later.Content.ReadAsStringAsync()).RootElement.GetProperty("task_id").GetString()!;
        Assert.That(laterId, Is.Not.EqualTo(firstId));
        Assert.That((await client.GetStatusAsync(firstId)).Status, Is.EqualTo(HttpStatusCode.OK), "the old task itself is kept");
        Assert.That(TaskCount(factory), Is.EqualTo(2));
    }

    [Test]
    public async Task Two_concurrent_uploads_with_one_key_make_one_task_and_both_get_it()
    {
        using var factory = new ThumbnailApiFactory();
        // Without the redirect handler, which would buffer the whole body before sending it.
        using var client = new ApiClient(factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }));
        var bodies = new[]
        {
            await HeldBackContent.FromAsync(ApiClient.Form(TestImages.Bytes("photo.jpg"), "photo.jpg")),
            await HeldBackContent.FromAsync(ApiClient.Form(TestImages.Bytes("photo.jpg"), "photo.jpg")),
        };
        var posting = bodies.Select(body => client.PostWithKeyAsync(body, "same-time")).ToArray();

        // Both requests are past the key look-up and streaming their image: neither has a row yet.
        Assert.That(await Eventually.TrueAsync(() => Directory.GetFiles(factory.UploadsPath).Length == 2), Is.True);
        foreach (var body in bodies)
        {
            body.Release();
        }

        var responses = await Task.WhenAll(posting).WaitAsync(TimeSpan.FromSeconds(30));
        var ids = new List<string>();
        foreach (var response in responses)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), text);
            ids.Add(JsonDocument.Parse(text).RootElement.GetProperty("task_id").GetString()!);
            response.Dispose();
        }

        Assert.That(ids.Distinct().Count(), Is.EqualTo(1));
        Assert.That(responses.Count(response => response.Headers.Contains("Idempotent-Replayed")), Is.EqualTo(1));
        Assert.That(TaskCount(factory), Is.EqualTo(1));
    }

    [Test]
    public async Task A_retry_is_answered_with_its_task_even_when_the_queue_is_full()
    {
        using var service = new GatedService(new Dictionary<string, string?> { ["ThumbnailApi:QueueCapacity"] = "1", ["ThumbnailApi:WorkerCount"] = "1" });
        var client = service.Client;
        await service.UploadHeldAsync("photo.jpg");
        using var queued = await client.PostWithKeyAsync(TestImages.Path("alpha.png"), "fills-the-queue");
        Assert.That(queued.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));

        using var retry = await client.PostWithKeyAsync(TestImages.Path("alpha.png"), "fills-the-queue");
        using var fresh = await client.PostWithKeyAsync(TestImages.Path("alpha.png"), "another-key");

        Assert.That(retry.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        Assert.That(await retry.Content.ReadAsStringAsync(), Is.EqualTo(await queued.Content.ReadAsStringAsync()));
        await ErrorResponseTests.AssertErrorAsync(fresh, HttpStatusCode.ServiceUnavailable, "queue_full");
    }

    [TestCase("has space")]
    [TestCase("ключ")]
    public async Task A_malformed_key_is_a_400_that_names_the_header(string key)
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateApiClient();

        using var response = await client.PostWithKeyAsync(TestImages.Path("photo.jpg"), key);

        var body = await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_option");
        Assert.That(body.GetProperty("field").GetString(), Is.EqualTo("Idempotency-Key"));
        Assert.That(TaskCount(factory), Is.Zero);
    }

    [Test]
    public async Task A_key_longer_than_255_characters_or_sent_twice_is_a_400()
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateApiClient();

        using var tooLong = await client.PostWithKeyAsync(TestImages.Path("photo.jpg"), new string('k', 256));
        var twice = new HttpRequestMessage(HttpMethod.Post, $"{ApiClient.Api}/")
        {
            Content = ApiClient.Form(TestImages.Bytes("photo.jpg"), "photo.jpg"),
        };
        twice.Headers.TryAddWithoutValidation("Idempotency-Key", ["one", "two"]);
        using var sentTwice = await client.Http.SendAsync(twice);

        await ErrorResponseTests.AssertErrorAsync(tooLong, HttpStatusCode.BadRequest, "invalid_option");
        await ErrorResponseTests.AssertErrorAsync(sentTwice, HttpStatusCode.BadRequest, "invalid_option");
    }

    private static long TaskCount(ThumbnailApiFactory factory)
    {
        using var db = factory.OpenDatabase();
        return db.ExecuteScalar<long>("SELECT COUNT(*) FROM tasks");
    }
}

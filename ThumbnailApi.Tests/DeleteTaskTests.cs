using System.Net;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using ThumbnailApi.Persistence;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary><c>DELETE …/{id}</c>: the task, its upload and its thumbnail go, also while a worker has it.</summary>
[TestFixture]
public sealed class DeleteTaskTests
{
    private static readonly Dictionary<string, string?> OneWorker = new() { ["ThumbnailApi:WorkerCount"] = "1" };

    [Test]
    public async Task Deleting_a_finished_task_answers_204_and_removes_its_row_and_thumbnail()
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateApiClient();
        var id = await client.UploadAsync(TestImages.Path("photo.jpg"));
        await client.WaitUntilFinishedAsync(id);
        Assert.That(Directory.GetFiles(factory.ThumbnailsPath), Has.Length.EqualTo(1));

        using var response = await client.DeleteAsync(id);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That((await client.GetStatusAsync(id)).Status, Is.EqualTo(HttpStatusCode.NotFound));
        using var thumbnail = await client.Http.GetAsync($"{ApiClient.Api}/{id}/thumbnail");
        Assert.That(thumbnail.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(Directory.GetFiles(factory.ThumbnailsPath), Is.Empty);
        Assert.That(Directory.GetFiles(factory.UploadsPath), Is.Empty);
    }

    [TestCase("0123456789abcdef0123456789abcdef")]
    [TestCase("not-a-task-id")]
    public async Task Deleting_an_unknown_or_malformed_task_is_a_404(string id)
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateApiClient();

        using var response = await client.DeleteAsync(id);

        var body = await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.NotFound, "task_not_found");
        Assert.That(body.GetProperty("task_id").GetString(), Is.EqualTo(id));
    }

    [Test]
    public async Task Deleting_a_task_while_it_is_processed_discards_the_result_leaves_no_file_and_logs_no_failure()
    {
        var logs = new CapturingLoggerProvider();
        using var service = new GatedService(OneWorker, s => s.AddSingleton<ILoggerProvider>(logs));
        var (factory, client) = (service.Factory, service.Client);
        var deleted = await service.UploadHeldAsync("photo.jpg");

        using var response = await client.DeleteAsync(deleted);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(Directory.GetFiles(factory.UploadsPath), Is.Empty, "the upload is gone at once");
        service.Gate.Open();

        // One worker: when the next task is done, the deleted one has been fully dealt with. The next
        // one is a damaged file, so its failure shows that failures do reach the captured log.
        var next = await client.UploadAsync(TestImages.Path("damaged/truncated.jpg"));
        Assert.That((await client.WaitUntilFinishedAsync(next)).GetProperty("task_status").GetString(), Is.EqualTo("FAILED"));

        Assert.That((await client.GetStatusAsync(deleted)).Status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(Directory.GetFiles(factory.ThumbnailsPath), Is.Empty, "the thumbnail the worker wrote for the deleted task was removed");
        Assert.That(Directory.GetFiles(factory.UploadsPath), Is.Empty);
        var warnings = logs.Entries.Where(entry => entry.Level >= LogLevel.Warning).Select(entry => entry.Message).ToList();
        Assert.That(warnings, Has.Some.Contains(next));
        Assert.That(warnings, Has.None.Contains(deleted));
    }

    [Test]
    public async Task A_queued_task_that_is_deleted_is_never_processed()
    {
        using var service = new GatedService(OneWorker);
        var (factory, client) = (service.Factory, service.Client);
        var held = await service.UploadHeldAsync("photo.jpg");
        var queued = await client.UploadAsync(TestImages.Path("alpha.png"));

        using var response = await client.DeleteAsync(queued);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        service.Gate.Open();
        var next = await client.UploadAsync(TestImages.Path("photo.gif"));
        await client.WaitUntilFinishedAsync(next);

        using var db = factory.OpenDatabase();
        var kept = db.Query<string>("SELECT thumbnail_key FROM tasks WHERE id IN @ids", new { ids = new[] { held, next } }).ToList();
        Assert.That(Directory.GetFiles(factory.ThumbnailsPath).Select(path => "thumbnails/" + Path.GetFileName(path)), Is.EquivalentTo(kept),
            "only the thumbnails of the two tasks that ran");
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM tasks WHERE id = @queued", new { queued }), Is.Zero);
    }

    [Test]
    public async Task A_request_waiting_for_a_task_that_is_deleted_is_answered_404_at_once()
    {
        using var service = new GatedService();
        var id = await service.UploadHeldAsync("photo.jpg");
        var waiting = service.Client.GetStatusAsync(id, wait: "30");
        await service.WaitersAsync(1);

        using var response = await service.Client.DeleteAsync(id);
        var (status, body) = await waiting.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.That(status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(body.GetProperty("code").GetString(), Is.EqualTo("task_not_found"));
    }

    [Test]
    public async Task A_worker_cannot_finish_a_task_whose_row_was_deleted()
    {
        using var folder = new TempDataFolder();
        var database = new SqliteDatabase(Path.Combine(folder.Path, "thumbnails.db"));
        database.Migrate();
        var store = new SqliteTaskStore(database, new FakeTimeProvider(DateTimeOffset.UtcNow), new TaskEvents());
        var first = await QueuedAsync(store);
        var second = await QueuedAsync(store);
        var firstLease = TaskLease.New("me", long.MaxValue);
        var secondLease = TaskLease.New("me", long.MaxValue);
        Assert.That(await store.TryClaimAsync(first, firstLease), Is.Not.Null);
        Assert.That(await store.TryClaimAsync(second, secondLease), Is.Not.Null);

        Assert.That((await store.DeleteTaskAsync(first, NoThumbnail))?.State, Is.EqualTo(TaskState.Processing));
        Assert.That(await store.DeleteTaskAsync(second, NoThumbnail), Is.Not.Null);

        Assert.That(await store.MarkSucceededAsync(first, firstLease.Token, new StoredThumbnail("image/png", 1, 1, 1, "\"e\"", 1)), Is.False);
        Assert.That(await store.MarkFailedAsync(second, secondLease.Token, "corrupt_image", "x"), Is.False);
        Assert.That(await store.FindAsync(first), Is.Null);
        Assert.That(await store.DeleteTaskAsync(first, NoThumbnail), Is.Null, "a second delete finds nothing");
    }

    private static Task NoThumbnail(string key) => Task.CompletedTask;

    private static async Task<string> QueuedAsync(ITaskStore store)
    {
        var id = TaskId.New();
        await store.InsertQueuedAsync(new TaskRecord
        {
            Id = id, FileName = "a.png", InputFormat = "image/png", InputBytes = 1, InputWidth = 1, InputHeight = 1,
            Width = 100, Height = 100, Fit = "cover", Format = "auto", CreatedAt = 1,
        });
        return id;
    }
}

using System.Net;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ThumbnailApi.Imaging;
using ThumbnailApi.Persistence;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>Nothing accepted is lost: the row is the truth, the queue is bounded, restarts resume.</summary>
[TestFixture]
public sealed class DurableQueueTests
{
    [Test]
    public async Task An_accepted_task_is_in_the_database_with_its_upload_on_disk_before_the_202_is_sent()
    {
        using var gate = new GatedThumbnailer();
        using var factory = new ThumbnailApiFactory(services: s => s.AddSingleton<IThumbnailer>(gate));
        using var client = factory.CreateApiClient();

        var id = await client.UploadAsync(TestImages.Path("photo.jpg"));

        using var db = factory.OpenDatabase();
        Assert.That(db.ExecuteScalar<string>("SELECT state FROM tasks WHERE id = @id", new { id }), Is.AnyOf("queued", "processing"));
        Assert.That(File.Exists(Path.Combine(factory.UploadsPath, id)), Is.True);
        gate.Open();
        Assert.That((await client.WaitUntilFinishedAsync(id)).GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
        Assert.That(await Eventually.TrueAsync(() => !File.Exists(Path.Combine(factory.UploadsPath, id))), Is.True,
            "the upload is deleted once the thumbnail exists");
    }

    [Test]
    public async Task A_full_queue_answers_503_with_retry_after_and_stores_nothing()
    {
        using var gate = new GatedThumbnailer();
        using var factory = new ThumbnailApiFactory(
            new Dictionary<string, string?> { ["ThumbnailApi:QueueCapacity"] = "1", ["ThumbnailApi:WorkerCount"] = "1" },
            s => s.AddSingleton<IThumbnailer>(gate));
        using var client = factory.CreateApiClient();

        var held = await client.UploadAsync(TestImages.Path("photo.jpg"));
        await gate.WaitUntilHeldAsync();
        var queued = await client.UploadAsync(TestImages.Path("photo.jpg"));
        using var refused = await client.PostFileAsync(TestImages.Path("photo.jpg"));

        await ErrorResponseTests.AssertErrorAsync(refused, HttpStatusCode.ServiceUnavailable, "queue_full");
        Assert.That(refused.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(5)));
        using (var db = factory.OpenDatabase())
        {
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM tasks"), Is.EqualTo(2));
        }

        Assert.That(Directory.GetFiles(factory.UploadsPath).Select(Path.GetFileName), Is.EquivalentTo(new[] { held, queued }));

        gate.Open();
        foreach (var id in new[] { held, queued })
        {
            Assert.That((await client.WaitUntilFinishedAsync(id)).GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
        }
    }

    [Test]
    public async Task The_thumbnail_of_a_pending_task_is_a_409()
    {
        using var gate = new GatedThumbnailer();
        using var factory = new ThumbnailApiFactory(services: s => s.AddSingleton<IThumbnailer>(gate));
        using var client = factory.CreateApiClient();
        var id = await client.UploadAsync(TestImages.Path("photo.jpg"));

        using var response = await client.Http.GetAsync($"{ApiClient.Api}/{id}/thumbnail");

        await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.Conflict, "thumbnail_not_ready");
        var (_, status) = await client.GetStatusAsync(id);
        Assert.That(status.GetProperty("task_status").GetString(), Is.EqualTo("PENDING"));
        Assert.That(status.GetProperty("stage").GetString(), Is.AnyOf("queued", "processing"));
    }

    [Test]
    public async Task Tasks_left_pending_by_an_earlier_run_are_processed_after_start_up()
    {
        using var folder = new TempDataFolder();
        var queued = SeedTask(folder, "photo.jpg", TaskState.Queued, attempts: 0);
        var interrupted = SeedTask(folder, "alpha.png", TaskState.Processing, attempts: 1);

        using var factory = new ThumbnailApiFactory(dataFolder: folder);
        using var client = factory.CreateApiClient();

        foreach (var id in new[] { queued, interrupted })
        {
            var status = await client.WaitUntilFinishedAsync(id);
            Assert.That(status.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"), status.ToString());
        }
    }

    [Test]
    public async Task A_task_that_was_already_attempted_three_times_is_failed_as_processing_crashed_at_start_up()
    {
        using var folder = new TempDataFolder();
        var poisonous = SeedTask(folder, "photo.jpg", TaskState.Processing, attempts: 3);
        var lastChance = SeedTask(folder, "photo.jpg", TaskState.Processing, attempts: 2);

        using var factory = new ThumbnailApiFactory(dataFolder: folder);
        using var client = factory.CreateApiClient();

        var failed = await client.WaitUntilFinishedAsync(poisonous);
        Assert.That(failed.GetProperty("task_status").GetString(), Is.EqualTo("FAILED"));
        Assert.That(failed.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("processing_crashed"));
        Assert.That(await Eventually.TrueAsync(() => !File.Exists(Path.Combine(factory.UploadsPath, poisonous))), Is.True);

        var retried = await client.WaitUntilFinishedAsync(lastChance);
        Assert.That(retried.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
        using var db = factory.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT attempts FROM tasks WHERE id = @lastChance", new { lastChance }), Is.EqualTo(3));
    }

    [Test]
    public async Task Shutting_down_lets_the_task_in_flight_finish_and_record_its_result()
    {
        using var folder = new TempDataFolder();
        using var gate = new GatedThumbnailer();
        var factory = new ThumbnailApiFactory(services: s => s.AddSingleton<IThumbnailer>(gate), dataFolder: folder);
        string id;
        using (var client = factory.CreateApiClient())
        {
            id = await client.UploadAsync(TestImages.Path("photo.jpg"));
        }

        await gate.WaitUntilHeldAsync();
        var shutdown = Task.Run(factory.Dispose);
        await Task.Delay(200); // the host is stopping while the worker is still inside the pipeline
        Assert.That(shutdown.IsCompleted, Is.False, "shutdown waits for the task in flight");
        gate.Open();
        await shutdown;

        var database = new SqliteDatabase(Path.Combine(folder.Path, "thumbnails.db"));
        using var connection = database.Open();
        Assert.That(connection.ExecuteScalar<string>("SELECT state FROM tasks WHERE id = @id", new { id }), Is.EqualTo(TaskState.Succeeded));
    }

    [Test]
    public void The_schema_migration_is_versioned_and_can_run_again()
    {
        using var folder = new TempDataFolder();
        var database = new SqliteDatabase(Path.Combine(folder.Path, "thumbnails.db"));

        database.Migrate();
        database.Migrate();

        using var connection = database.Open();
        Assert.That(connection.ExecuteScalar<long>("PRAGMA user_version"), Is.EqualTo(SqliteDatabase.SchemaVersion));
        Assert.That(connection.ExecuteScalar<string>("PRAGMA journal_mode"), Is.EqualTo("wal"));
    }

    /// <summary>Writes a task row and its upload as an earlier run of the service would have left them.</summary>
    private static string SeedTask(TempDataFolder folder, string image, string state, int attempts)
    {
        var database = new SqliteDatabase(Path.Combine(folder.Path, "thumbnails.db"));
        database.Migrate();
        var id = TaskId.New();
        Directory.CreateDirectory(Path.Combine(folder.Path, "uploads"));
        File.Copy(TestImages.Path(image), Path.Combine(folder.Path, "uploads", id));
        new SqliteTaskStore(database, new FakeTimeProvider(DateTimeOffset.UtcNow), new TaskEvents()).InsertQueuedAsync(new TaskRecord
        {
            Id = id, FileName = image, InputFormat = "image/jpeg", InputBytes = 1, InputWidth = 1, InputHeight = 1,
            Width = 100, Height = 100, Fit = "cover", Format = "auto", CreatedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        }).GetAwaiter().GetResult();
        using var connection = database.Open();
        connection.Execute("UPDATE tasks SET state = @state, attempts = @attempts WHERE id = @id", new { id, state, attempts });
        return id;
    }
}

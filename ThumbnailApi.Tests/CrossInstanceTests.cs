using System.Diagnostics;
using System.Net;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using ThumbnailApi.Imaging;
using ThumbnailApi.Persistence;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// Two instances of the service on one PostgreSQL database and one data folder, as behind a load
/// balancer: work uploaded to one is done by whichever is free, long-polls, idempotency keys, DELETE,
/// admission and retention hold across them, and a task whose instance died is finished by another.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class CrossInstanceTests
{
    private static readonly Dictionary<string, string?> OneWorker = new() { ["ThumbnailApi:WorkerCount"] = "1" };

    [Test]
    public async Task A_task_uploaded_to_a_busy_instance_is_done_at_once_by_an_idle_one_and_long_polled_through_either()
    {
        await using var cluster = await SharedDatabaseInstances.CreateAsync();
        using var busyGate = new GatedThumbnailer();
        var busy = cluster.Start(OneWorker, s => s.AddSingleton<IThumbnailer>(busyGate));
        using var viaBusy = busy.CreateApiClient();
        await viaBusy.UploadAsync(TestImages.Path("photo.jpg")); // the only instance so far: it takes this one and holds it
        await busyGate.WaitUntilHeldAsync();
        var idle = cluster.Start(OneWorker);
        using var viaIdle = idle.CreateApiClient();
        await cluster.WaitUntilIdleClaimersAsync(1);
        var clock = Stopwatch.StartNew();
        var id = await viaBusy.UploadAsync(TestImages.Path("alpha.png"));

        var (_, done) = await viaIdle.GetStatusAsync(id, wait: "20");
        clock.Stop();

        Assert.That(done.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
        Assert.That(clock.Elapsed, Is.LessThan(ThumbnailApi.Processing.ClaimTaskFeed.FallbackPoll),
            "the idle instance was woken by the notification, not by its fallback poll");
        using var thumbnail = await viaBusy.Http.GetAsync($"{ApiClient.Api}/{id}/thumbnail");
        Assert.That(thumbnail.StatusCode, Is.EqualTo(HttpStatusCode.OK), "served by the instance that did not make it");
        busyGate.Open();
    }

    [Test]
    public async Task The_same_idempotency_key_sent_to_two_instances_at_once_makes_one_task()
    {
        await using var cluster = await SharedDatabaseInstances.CreateAsync();
        using var a = cluster.Start().CreateApiClient();
        using var b = cluster.Start().CreateApiClient();

        var answers = await Task.WhenAll(
            a.PostWithKeyAsync(TestImages.Path("photo.jpg"), "order-17"),
            b.PostWithKeyAsync(TestImages.Path("photo.jpg"), "order-17"),
            a.PostWithKeyAsync(TestImages.Path("photo.jpg"), "order-17"),
            b.PostWithKeyAsync(TestImages.Path("photo.jpg"), "order-17"));

        var ids = new HashSet<string>();
        foreach (var answer in answers)
        {
            Assert.That(answer.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            ids.Add(System.Text.Json.JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("task_id").GetString()!);
        }

        Assert.That(ids, Has.Count.EqualTo(1));
        await using var connection = await cluster.OpenAsync();
        Assert.That(await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM tasks"), Is.EqualTo(1));
    }

    [Test]
    public async Task A_task_deleted_on_one_instance_while_another_works_on_it_leaves_no_result_and_no_file()
    {
        await using var cluster = await SharedDatabaseInstances.CreateAsync();
        using var gateA = new GatedThumbnailer();
        using var gateB = new GatedThumbnailer();
        var a = cluster.Start(OneWorker, s => s.AddSingleton<IThumbnailer>(gateA));
        var b = cluster.Start(OneWorker, s => s.AddSingleton<IThumbnailer>(gateB));
        using var viaA = a.CreateApiClient();
        using var viaB = b.CreateApiClient();

        var id = await viaA.UploadAsync(TestImages.Path("photo.jpg"));
        Assert.That(await Eventually.TrueAsync(() => gateA.Entered + gateB.Entered == 1), Is.True, "a worker holds the task");
        var (holder, other) = gateA.Entered == 1 ? (viaA, viaB) : (viaB, viaA);
        var gate = gateA.Entered == 1 ? gateA : gateB;
        var waiting = holder.GetStatusAsync(id, wait: "20");

        using var deleted = await other.DeleteAsync(id);
        var (status, _) = await waiting.WaitAsync(TimeSpan.FromSeconds(15));
        gate.Open();

        Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(status, Is.EqualTo(HttpStatusCode.NotFound), "the long-poll on the working instance was answered by the delete on the other");
        Assert.That(await Eventually.TrueAsync(() => gate.Completed == 1), Is.True);
        Assert.That(await Eventually.TrueAsync(() => Directory.GetFiles(cluster.Folder.Path, $"{id}*", SearchOption.AllDirectories).Length == 0),
            Is.True, "the fenced-out worker removed the thumbnail it wrote, and the upload is gone");
    }

    [Test]
    public async Task Admission_counts_the_tasks_queued_on_every_instance()
    {
        await using var cluster = await SharedDatabaseInstances.CreateAsync();
        var settings = new Dictionary<string, string?> { ["ThumbnailApi:WorkerCount"] = "1", ["ThumbnailApi:QueueCapacity"] = "2" };
        using var gateA = new GatedThumbnailer();
        using var gateB = new GatedThumbnailer();
        using var a = cluster.Start(settings, s => s.AddSingleton<IThumbnailer>(gateA)).CreateApiClient();
        using var b = cluster.Start(settings, s => s.AddSingleton<IThumbnailer>(gateB)).CreateApiClient();
        await a.UploadAsync(TestImages.Path("photo.jpg"));
        await b.UploadAsync(TestImages.Path("photo.jpg"));
        await gateA.WaitUntilHeldAsync();
        await gateB.WaitUntilHeldAsync();

        await a.UploadAsync(TestImages.Path("alpha.png"));
        await a.UploadAsync(TestImages.Path("alpha.png"));
        using var refused = await b.PostFileAsync(TestImages.Path("alpha.png"));

        await ErrorResponseTests.AssertErrorAsync(refused, HttpStatusCode.ServiceUnavailable, "queue_full");
        gateA.Open();
        gateB.Open();
    }

    [Test]
    public async Task A_task_whose_instance_died_holding_it_is_taken_back_after_its_lease_and_finished_by_another()
    {
        await using var cluster = await SharedDatabaseInstances.CreateAsync();
        var survivor = cluster.Start(new Dictionary<string, string?> { ["ThumbnailApi:LeaseSeconds"] = "3" });
        using var client = survivor.CreateApiClient();

        // An instance that took the task and died: its upload is in the shared folder and its claim
        // stays in the database, with a lease nobody renews.
        var id = TaskId.New();
        File.Copy(TestImages.Path("photo.jpg"), Path.Combine(cluster.Folder.Path, "uploads", id));
        await using (var connection = await cluster.OpenAsync())
        {
            await connection.ExecuteAsync(
                """
                INSERT INTO tasks (id, state, file_name, input_format, input_bytes, input_width, input_height, width, height, fit, format,
                                   attempts, created_at, started_at, lease_owner, lease_token, lease_expires_at)
                VALUES (@id, 'processing', 'photo.jpg', 'image/jpeg', 35972, 640, 480, 100, 100, 'cover', 'auto',
                        1, @now, @now, 'dead-instance', 'deadbeef00000000', @now + 2000)
                """, new { id, now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
        }

        var done = await client.WaitUntilFinishedAsync(id, TimeSpan.FromSeconds(30));

        Assert.That(done.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
        await using var check = await cluster.OpenAsync();
        Assert.That(await check.ExecuteScalarAsync<int>("SELECT attempts FROM tasks WHERE id = @id", new { id }), Is.EqualTo(2));
    }

    [Test]
    public async Task When_an_instance_loses_its_notifications_a_waiting_request_still_sees_the_task_finish()
    {
        await using var cluster = await SharedDatabaseInstances.CreateAsync();
        using var gate = new GatedThumbnailer(); // shared: whichever instance claims the task holds it here
        var worker = cluster.Start(OneWorker, s => s.AddSingleton<IThumbnailer>(gate));
        var waiter = cluster.Start(OneWorker, s => s.AddSingleton<IThumbnailer>(gate));
        using var viaWorker = worker.CreateApiClient();
        using var viaWaiter = waiter.CreateApiClient();
        var id = await viaWorker.UploadAsync(TestImages.Path("photo.jpg"));
        await gate.WaitUntilHeldAsync();
        var waiting = viaWaiter.GetStatusAsync(id, wait: "25");
        await Eventually.TrueAsync(() => waiter.Services.GetRequiredService<ThumbnailApi.Processing.TaskCompletionSignals>().WaiterCount == 1);

        // Cut every listening connection: the finish below is notified while no one listens.
        await using (var connection = await cluster.OpenAsync())
        {
            await connection.ExecuteAsync(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = @name",
                new { name = ThumbnailApi.Persistence.PostgresListener.ApplicationName });
        }

        gate.Open();
        var (_, body) = await waiting.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.That(body.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"), "answered when the listener came back, not after 25 s");
    }

    [Test]
    public async Task Retention_removes_a_task_finished_on_another_instance_with_its_files()
    {
        await using var cluster = await SharedDatabaseInstances.CreateAsync();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = new Dictionary<string, string?> { ["ThumbnailApi:RetentionDays"] = "1", ["ThumbnailApi:LeaseSeconds"] = "600" };
        var maker = cluster.Start(settings, s => s.AddSingleton<TimeProvider>(clock));
        using var client = maker.CreateApiClient();
        var id = await client.UploadAsync(TestImages.Path("photo.jpg"));
        await client.WaitUntilFinishedAsync(id);
        var sweeper = cluster.Start(settings, s => s.AddSingleton<TimeProvider>(clock));

        clock.Advance(TimeSpan.FromDays(2));
        var gone = await Eventually.TrueAsync(() =>
        {
            clock.Advance(TimeSpan.FromMinutes(10));
            return Directory.GetFiles(Path.Combine(cluster.Folder.Path, "thumbnails")).Length == 0;
        }, TimeSpan.FromSeconds(20));

        Assert.That(gone, Is.True);
        using var viaSweeper = sweeper.CreateApiClient();
        Assert.That((await viaSweeper.GetStatusAsync(id)).Status, Is.EqualTo(HttpStatusCode.NotFound));
    }
}

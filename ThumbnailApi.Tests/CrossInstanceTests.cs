using System.Diagnostics;
using System.Net;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework.Interfaces;
using ThumbnailApi.Imaging;
using ThumbnailApi.Persistence;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// Two instances of the service on one PostgreSQL database, as behind a load balancer: work uploaded
/// to one is done by whichever is free, thumbnails made by one are served by the other, long-polls,
/// idempotency keys, DELETE, admission and retention hold across them, and a task whose instance died
/// is finished by another. Run twice: with one data folder shared by both (a shared volume), and with
/// blobs in an S3 bucket and a data folder of its own for each (instances on different machines),
/// where no instance may write an upload or a thumbnail into its folder, and its scratch folder ends empty.
/// </summary>
[TestFixtureSource(nameof(Storage))]
[NonParallelizable]
public sealed class CrossInstanceTests(InstanceBlobs blobs)
{
    private static readonly Dictionary<string, string?> OneWorker = new() { ["ThumbnailApi:WorkerCount"] = "1" };

    private static readonly TestFixtureData[] Storage =
    [
        new TestFixtureData(InstanceBlobs.SharedFolder).SetArgDisplayNames("a shared data folder"),
        new TestFixtureData(InstanceBlobs.S3).SetArgDisplayNames("an S3 bucket and a data folder per instance"),
    ];

    private SharedDatabaseInstances? _cluster;

    private SharedDatabaseInstances Cluster => _cluster!;

    [SetUp]
    public async Task CreateCluster() => _cluster = await SharedDatabaseInstances.CreateAsync(blobs);

    /// <summary>With a bucket, after each flow: nothing was ever written into an instance's data folder but scratch files, and none is left.</summary>
    [TearDown]
    public async Task CheckTheDataFoldersAndStop()
    {
        if (_cluster is null)
        {
            return;
        }

        try
        {
            if (blobs == InstanceBlobs.S3 && TestContext.CurrentContext.Result.Outcome.Status == TestStatus.Passed)
            {
                var clean = await Eventually.TrueAsync(() => _cluster.LocalFilesBesideTheBucket().Count == 0);
                Assert.That(clean, Is.True,
                    $"no upload or thumbnail in the instances' data folders, and their scratch folders empty: {string.Join(", ", _cluster.LocalFilesBesideTheBucket())}");
            }
        }
        finally
        {
            await _cluster.DisposeAsync();
            _cluster = null;
        }
    }

    [Test]
    public async Task A_task_uploaded_to_a_busy_instance_is_done_at_once_by_an_idle_one_and_long_polled_through_either()
    {
        using var busyGate = new GatedThumbnailer();
        var busy = Cluster.Start(OneWorker, s => s.AddSingleton<IThumbnailer>(busyGate));
        using var viaBusy = busy.CreateApiClient();
        await viaBusy.UploadAsync(TestImages.Path("photo.jpg")); // the only instance so far: it takes this one and holds it
        await busyGate.WaitUntilHeldAsync();
        var idle = Cluster.Start(OneWorker);
        using var viaIdle = idle.CreateApiClient();
        await Cluster.WaitUntilIdleClaimersAsync(1);
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
    public async Task A_thumbnail_made_by_one_instance_is_served_by_the_other_byte_for_byte_with_the_same_ETag_and_a_304_for_it()
    {
        var maker = Cluster.Start();
        using var viaMaker = maker.CreateApiClient();
        var id = await viaMaker.UploadAsync(TestImages.Path("alpha.png"));
        Assert.That((await viaMaker.WaitUntilFinishedAsync(id)).GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
        using var fromMaker = await viaMaker.Http.GetAsync($"{ApiClient.Api}/{id}/thumbnail");
        using var viaOther = Cluster.Start().CreateApiClient(); // started after the task was done: it cannot have made it

        using var fromOther = await viaOther.Http.GetAsync($"{ApiClient.Api}/{id}/thumbnail");
        using var conditional = new HttpRequestMessage(HttpMethod.Get, $"{ApiClient.Api}/{id}/thumbnail");
        conditional.Headers.IfNoneMatch.Add(fromMaker.Headers.ETag!);
        using var notModified = await viaOther.Http.SendAsync(conditional);

        Assert.That(fromMaker.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(fromOther.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await fromOther.Content.ReadAsByteArrayAsync(), Is.EqualTo(await fromMaker.Content.ReadAsByteArrayAsync()), "the same bytes");
        Assert.That(fromOther.Headers.ETag, Is.EqualTo(fromMaker.Headers.ETag).And.Not.Null, "the same strong ETag");
        Assert.That(fromOther.Content.Headers.ContentType?.MediaType, Is.EqualTo(fromMaker.Content.Headers.ContentType?.MediaType));
        Assert.That(notModified.StatusCode, Is.EqualTo(HttpStatusCode.NotModified), "the other instance honours the maker's ETag");
        Assert.That(notModified.Headers.ETag, Is.EqualTo(fromMaker.Headers.ETag));
    }

    [Test]
    public async Task Deleting_on_one_instance_a_task_finished_by_the_other_removes_its_upload_and_thumbnail_from_the_store()
    {
        var maker = Cluster.Start();
        using var viaMaker = maker.CreateApiClient();
        var id = await viaMaker.UploadAsync(TestImages.Path("photo.jpg"));
        Assert.That((await viaMaker.WaitUntilFinishedAsync(id)).GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
        Assert.That(await Cluster.BlobKeysAsync("thumbnails/"), Has.Count.EqualTo(1), "its thumbnail is stored");
        using var viaOther = Cluster.Start().CreateApiClient();

        using var deleted = await viaOther.DeleteAsync(id);

        Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(await Cluster.BlobKeysAsync("thumbnails/"), Is.Empty, "the thumbnail went with its only task, at once");
        Assert.That(await Eventually.TrueAsync(async () => (await Cluster.BlobKeysAsync("uploads/")).Count == 0), Is.True, "no upload is left");
        Assert.That((await viaMaker.GetStatusAsync(id)).Status, Is.EqualTo(HttpStatusCode.NotFound), "the maker no longer knows the task");
    }

    [Test]
    public async Task The_same_idempotency_key_sent_to_two_instances_at_once_makes_one_task()
    {
        using var a = Cluster.Start().CreateApiClient();
        using var b = Cluster.Start().CreateApiClient();

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
        await using var connection = await Cluster.OpenAsync();
        Assert.That(await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM tasks"), Is.EqualTo(1));
    }

    [Test]
    public async Task A_task_deleted_on_one_instance_while_another_works_on_it_leaves_no_result_and_no_file()
    {
        using var gateA = new GatedThumbnailer();
        using var gateB = new GatedThumbnailer();
        var a = Cluster.Start(OneWorker, s => s.AddSingleton<IThumbnailer>(gateA));
        var b = Cluster.Start(OneWorker, s => s.AddSingleton<IThumbnailer>(gateB));
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
        Assert.That(await Eventually.TrueAsync(async () => (await Cluster.AllBlobKeysAsync()).Count == 0),
            Is.True, "the fenced-out worker stored no thumbnail, and the upload is gone");
    }

    [Test]
    public async Task Admission_counts_the_tasks_queued_on_every_instance()
    {
        var settings = new Dictionary<string, string?> { ["ThumbnailApi:WorkerCount"] = "1", ["ThumbnailApi:QueueCapacity"] = "2" };
        using var gateA = new GatedThumbnailer();
        using var gateB = new GatedThumbnailer();
        using var a = Cluster.Start(settings, s => s.AddSingleton<IThumbnailer>(gateA)).CreateApiClient();
        using var b = Cluster.Start(settings, s => s.AddSingleton<IThumbnailer>(gateB)).CreateApiClient();
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
        var survivor = Cluster.Start(new Dictionary<string, string?> { ["ThumbnailApi:LeaseSeconds"] = "3" });
        using var client = survivor.CreateApiClient();

        // An instance that took the task and died: its upload is stored (in the shared folder or the
        // bucket) and its claim stays in the database, with a lease nobody renews.
        var id = TaskId.New();
        await Cluster.PutBlobAsync($"uploads/{id}", TestImages.Path("photo.jpg"));
        await using (var connection = await Cluster.OpenAsync())
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
        await using var check = await Cluster.OpenAsync();
        Assert.That(await check.ExecuteScalarAsync<int>("SELECT attempts FROM tasks WHERE id = @id", new { id }), Is.EqualTo(2));
    }

    [Test]
    public async Task When_an_instance_loses_its_notifications_a_waiting_request_still_sees_the_task_finish()
    {
        using var gate = new GatedThumbnailer(); // shared: whichever instance claims the task holds it here
        var worker = Cluster.Start(OneWorker, s => s.AddSingleton<IThumbnailer>(gate));
        var waiter = Cluster.Start(OneWorker, s => s.AddSingleton<IThumbnailer>(gate));
        using var viaWorker = worker.CreateApiClient();
        using var viaWaiter = waiter.CreateApiClient();
        var id = await viaWorker.UploadAsync(TestImages.Path("photo.jpg"));
        await gate.WaitUntilHeldAsync();
        var waiting = viaWaiter.GetStatusAsync(id, wait: "25");
        await Eventually.TrueAsync(() => waiter.Services.GetRequiredService<ThumbnailApi.Processing.TaskCompletionSignals>().WaiterCount == 1);

        // Cut every listening connection: the finish below is notified while no one listens.
        await using (var connection = await Cluster.OpenAsync())
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
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = new Dictionary<string, string?> { ["ThumbnailApi:RetentionDays"] = "1", ["ThumbnailApi:LeaseSeconds"] = "600" };
        var maker = Cluster.Start(settings, s => s.AddSingleton<TimeProvider>(clock));
        using var client = maker.CreateApiClient();
        var id = await client.UploadAsync(TestImages.Path("photo.jpg"));
        await client.WaitUntilFinishedAsync(id);
        var sweeper = Cluster.Start(settings, s => s.AddSingleton<TimeProvider>(clock));

        using var viaSweeper = sweeper.CreateApiClient();
        clock.Advance(TimeSpan.FromDays(2));
        // The sweep deletes the thumbnail inside the transaction that deletes the row: the blob can be
        // gone a moment before the row is, so both are waited for.
        var gone = await Eventually.TrueAsync(async () =>
        {
            clock.Advance(TimeSpan.FromMinutes(10));
            return (await Cluster.AllBlobKeysAsync()).Count == 0 && (await viaSweeper.GetStatusAsync(id)).Status == HttpStatusCode.NotFound;
        }, TimeSpan.FromSeconds(20));

        Assert.That(gone, Is.True, "the task, its thumbnail and its upload are gone");
    }
}

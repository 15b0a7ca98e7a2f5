using Microsoft.Extensions.Time.Testing;
using Npgsql;
using ThumbnailApi.Persistence;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// The store's contract, the same sentences for both databases: SQLite in a temporary folder, and
/// PostgreSQL in a database of its own on the test run's server. Where the two must differ (what a
/// single-process database calls abandoned), the test says so.
/// </summary>
[TestFixtureSource(nameof(Databases))]
public sealed class TaskStoreContractTests(string database)
{
    private const string Me = "instance-a";
    private const string Other = "instance-b";

    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private ITaskStore _store = null!;
    private TaskEvents _events = null!;
    private Func<Task> _cleanUp = () => Task.CompletedTask;

    public static IEnumerable<string> Databases => ["sqlite", "postgres"];

    private bool Postgres => database == "postgres";

    [SetUp]
    public async Task CreateStore()
    {
        _events = new TaskEvents();
        if (Postgres)
        {
            var server = Requires.Postgres();
            var name = await server.CreateDatabaseAsync();
            var source = NpgsqlDataSource.Create(server.ConnectionString(name));
            _store = new PostgresTaskStore(new PostgresDatabase(source), _clock, TransactionIdleLimits.For(new ServiceOptions()));
            _cleanUp = async () =>
            {
                await source.DisposeAsync();
                await server.DropDatabaseAsync(name);
            };
        }
        else
        {
            var folder = new TempDataFolder();
            _store = new SqliteTaskStore(new SqliteDatabase(Path.Combine(folder.Path, "thumbnails.db")), _clock, _events);
            _cleanUp = () =>
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                folder.Dispose();
                return Task.CompletedTask;
            };
        }

        await _store.MigrateAsync();
    }

    [TearDown]
    public Task DropStore() => _cleanUp();

    [Test]
    public async Task An_uploaded_task_is_queued_found_and_counted()
    {
        var id = await QueuedAsync();

        var task = await _store.FindAsync(id);

        Assert.That(task?.State, Is.EqualTo(TaskState.Queued));
        Assert.That(task!.MemoryBytes, Is.EqualTo(12345));
        Assert.That(await _store.CountQueuedAsync(), Is.EqualTo(1));
        Assert.That(await _store.QueuedIdsAsync(), Is.EqualTo(new[] { id }));
    }

    [Test]
    public async Task A_claim_takes_the_oldest_queued_task_counts_the_attempt_and_records_the_lease()
    {
        var older = await QueuedAsync(createdAt: 1);
        await QueuedAsync(createdAt: 2);
        var lease = Lease(Me);

        var claimed = await _store.ClaimNextAsync(lease);

        Assert.That(claimed?.Id, Is.EqualTo(older));
        Assert.That(claimed!.State, Is.EqualTo(TaskState.Processing));
        Assert.That(claimed.Attempts, Is.EqualTo(1));
        Assert.That((claimed.LeaseOwner, claimed.LeaseToken, claimed.LeaseExpiresAt), Is.EqualTo((lease.Owner, lease.Token, lease.ExpiresAt)));
        Assert.That(await _store.TryClaimAsync(older, Lease(Other)), Is.Null, "a claimed task cannot be claimed again");
    }

    [Test]
    public async Task Claimers_working_at_once_never_take_the_same_task()
    {
        var ids = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            ids.Add(await QueuedAsync(createdAt: i));
        }

        var claimed = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            while (await _store.ClaimNextAsync(Lease($"worker-{worker}")) is { } task)
            {
                claimed.Add(task.Id);
            }
        })));

        Assert.That(claimed, Is.EquivalentTo(ids), "every task claimed exactly once");
        Assert.That(await _store.CountQueuedAsync(), Is.Zero);
    }

    [Test]
    public async Task Finishing_and_releasing_are_fenced_by_the_lease_token()
    {
        var id = await QueuedAsync();
        var lease = Lease(Me);
        await _store.ClaimNextAsync(lease);
        var stranger = Lease(Other).Token;

        Assert.That(await _store.MarkSucceededAsync(id, stranger, Thumbnail()), Is.False);
        Assert.That(await _store.MarkFailedAsync(id, stranger, "corrupt_image", "x"), Is.False);
        Assert.That(await _store.ReleaseClaimAsync(id, stranger), Is.False);
        Assert.That(await _store.RenewLeaseAsync(id, Lease(Other)), Is.False);
        Assert.That((await _store.FindAsync(id))!.State, Is.EqualTo(TaskState.Processing));

        Assert.That(await _store.MarkSucceededAsync(id, lease.Token, Thumbnail()), Is.True);
        var done = await _store.FindAsync(id);
        Assert.That((done!.State, done.LeaseToken, done.ThumbnailEtag), Is.EqualTo((TaskState.Succeeded, lease.Token, "\"etag\"")));
        Assert.That(await _store.MarkFailedAsync(id, lease.Token, "corrupt_image", "x"), Is.False, "a finished task stays finished");
    }

    [Test]
    public async Task A_released_claim_goes_back_to_the_queue_without_counting_the_attempt()
    {
        var id = await QueuedAsync();
        var lease = Lease(Me);
        await _store.ClaimNextAsync(lease);

        Assert.That(await _store.ReleaseClaimAsync(id, lease.Token), Is.True);

        var task = await _store.FindAsync(id);
        Assert.That((task!.State, task.Attempts, task.LeaseToken), Is.EqualTo((TaskState.Queued, 0, (string?)null)));
        Assert.That(await _store.MarkSucceededAsync(id, lease.Token, Thumbnail()), Is.False, "the released claim can no longer finish it");
    }

    [Test]
    public async Task A_lease_past_its_expiry_goes_back_to_the_queue_and_its_holder_can_no_longer_finish_the_task()
    {
        var id = await QueuedAsync();
        var lease = Lease(Other);
        await _store.ClaimNextAsync(lease);
        _clock.Advance(TimeSpan.FromMinutes(2));

        var reaped = await _store.RequeueAbandonedAsync(Me, maxAttempts: 3, "crashed");

        Assert.That(reaped.Requeued, Is.EqualTo(new[] { id }));
        Assert.That((await _store.FindAsync(id))!.State, Is.EqualTo(TaskState.Queued));
        var again = Lease(Me);
        Assert.That(await _store.ClaimNextAsync(again), Is.Not.Null);
        Assert.That(await _store.MarkSucceededAsync(id, lease.Token, Thumbnail()), Is.False, "the old holder is fenced out");
        Assert.That(await _store.MarkSucceededAsync(id, again.Token, Thumbnail()), Is.True);
    }

    [Test]
    public async Task A_renewed_lease_is_not_abandoned()
    {
        var id = await QueuedAsync();
        var lease = Lease(Me);
        await _store.ClaimNextAsync(lease);
        _clock.Advance(TimeSpan.FromSeconds(50));

        Assert.That(await _store.RenewLeaseAsync(id, lease.RenewedUntil(Expiry(TimeSpan.FromMinutes(1)))), Is.True);
        _clock.Advance(TimeSpan.FromSeconds(30));

        Assert.That((await _store.RequeueAbandonedAsync(Me, 3, "crashed")).Requeued, Is.Empty);
    }

    [Test]
    public async Task A_live_claim_of_another_instance_is_left_alone_by_a_shared_database_and_taken_back_by_a_single_process_one()
    {
        var id = await QueuedAsync();
        await _store.ClaimNextAsync(Lease(Other));

        var reaped = await _store.RequeueAbandonedAsync(Me, 3, "crashed");

        // PostgreSQL is shared: another instance renews its own leases. A SQLite file has one process,
        // so a claim it did not make was made by a run that died.
        Assert.That(reaped.Requeued, Postgres ? Is.Empty : Is.EqualTo(new[] { id }));
    }

    [Test]
    public async Task An_abandoned_task_that_used_all_its_attempts_is_failed_as_crashed()
    {
        var id = await QueuedAsync();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            await _store.ClaimNextAsync(Lease(Other));
            _clock.Advance(TimeSpan.FromMinutes(2));
            var reaped = await _store.RequeueAbandonedAsync(Me, maxAttempts: 3, "it crashed");
            Assert.That(attempt < 3 ? reaped.Requeued : reaped.GivenUp, Is.EqualTo(new[] { id }), $"attempt {attempt}");
        }

        var task = await _store.FindAsync(id);
        Assert.That((task!.State, task.ErrorCode, task.ErrorMessage), Is.EqualTo((TaskState.Failed, "processing_crashed", "it crashed")));
    }

    [Test]
    public async Task Two_uploads_with_one_idempotency_key_at_once_make_one_task_and_the_loser_gets_the_winners()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            var task = NewTask(idempotencyKey: "key-1");
            return (Id: task.Id, Holder: await _store.InsertQueuedUnlessKeyTakenAsync(task, keysValidSince: 0));
        })));

        var winners = results.Where(result => result.Holder is null).Select(result => result.Id).ToList();
        Assert.That(winners, Has.Count.EqualTo(1));
        Assert.That(results.Where(result => result.Holder is not null).Select(result => result.Holder!.Id), Has.All.EqualTo(winners[0]));
        Assert.That((await _store.FindByIdempotencyKeyAsync("key-1", 0))?.Id, Is.EqualTo(winners[0]));
    }

    [Test]
    public async Task A_key_older_than_its_window_is_given_up_to_a_new_upload()
    {
        var old = NewTask(idempotencyKey: "key-2", createdAt: 1_000);
        await _store.InsertQueuedUnlessKeyTakenAsync(old, keysValidSince: 0);

        var fresh = NewTask(idempotencyKey: "key-2", createdAt: 5_000);
        Assert.That(await _store.InsertQueuedUnlessKeyTakenAsync(fresh, keysValidSince: 2_000), Is.Null);

        Assert.That((await _store.FindByIdempotencyKeyAsync("key-2", 2_000))?.Id, Is.EqualTo(fresh.Id));
        Assert.That((await _store.FindAsync(old.Id))!.IdempotencyKey, Is.Null);
    }

    [Test]
    public async Task A_deleted_task_returns_its_row_once_and_can_no_longer_be_finished()
    {
        var id = await QueuedAsync();
        var lease = Lease(Me);
        await _store.ClaimNextAsync(lease);

        Assert.That((await _store.DeleteTaskAsync(id, NoThumbnailAsync))?.State, Is.EqualTo(TaskState.Processing));
        Assert.That(await _store.DeleteTaskAsync(id, NoThumbnailAsync), Is.Null);
        Assert.That(await _store.MarkSucceededAsync(id, lease.Token, Thumbnail()), Is.False);
        Assert.That(await _store.FindAsync(id), Is.Null);
    }

    [Test]
    public async Task Lists_of_ids_are_looked_up_in_one_query_and_unknown_ids_are_left_out()
    {
        var a = await QueuedAsync();
        var b = await QueuedAsync();
        var lease = Lease(Me);
        await _store.TryClaimAsync(b, lease);

        var found = await _store.FindManyAsync([a, b, TaskId.New()]);
        var owners = await _store.FileOwnersAsync([a, b, TaskId.New()]);

        Assert.That(found.Select(task => task.Id), Is.EquivalentTo(new[] { a, b }));
        Assert.That(owners.Keys, Is.EquivalentTo(new[] { a, b }));
        Assert.That(owners[b], Is.EqualTo(new TaskFileOwner(TaskState.Processing, lease.Token)));
        Assert.That(await _store.UnfinishedIdsAsync(), Is.EquivalentTo(new[] { a, b }));
    }

    [Test]
    public async Task Finished_tasks_older_than_a_moment_are_deleted_oldest_first_in_batches()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var id = await QueuedAsync();
            var lease = Lease(Me);
            await _store.TryClaimAsync(id, lease);
            await _store.MarkFailedAsync(id, lease.Token, "corrupt_image", "x");
            ids.Add(id);
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        var cut = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var pending = await QueuedAsync();

        var first = await _store.DeleteFinishedBeforeAsync(cut, limit: 3, NoThumbnailAsync);
        var second = await _store.DeleteFinishedBeforeAsync(cut, limit: 3, NoThumbnailAsync);

        Assert.That(first.Select(task => task.Id), Is.EquivalentTo(ids.Take(3)), "the three oldest first");
        Assert.That(second.Select(task => task.Id), Is.EquivalentTo(ids.Skip(3)));
        Assert.That(await _store.FindAsync(pending), Is.Not.Null);
    }

    [Test]
    public async Task The_same_bytes_and_options_find_the_latest_successful_twin()
    {
        var first = NewTask(contentHash: "abc");
        await _store.InsertQueuedAsync(first);
        var lease = Lease(Me);
        await _store.TryClaimAsync(first.Id, lease);
        await _store.MarkSucceededAsync(first.Id, lease.Token, Thumbnail());
        var second = NewTask(contentHash: "abc");

        Assert.That((await _store.FindSucceededTwinAsync(second, pipelineRevision: 1))?.Id, Is.EqualTo(first.Id));
        Assert.That(await _store.FindSucceededTwinAsync(second, pipelineRevision: 2), Is.Null, "another pipeline revision is not a twin");
    }

    [Test]
    public async Task A_thumbnail_shared_by_two_tasks_is_deleted_with_its_last_user_and_not_before()
    {
        var first = await SucceededWithThumbnailAsync("thumbnails/shared.png");
        var second = await SucceededWithThumbnailAsync("thumbnails/shared.png");
        var deleted = new List<string>();

        await _store.DeleteTaskAsync(first, key => Record(deleted, key));
        Assert.That(deleted, Is.Empty, "the other task still uses it");
        Assert.That(await _store.ThumbnailKeysInUseAsync(["thumbnails/shared.png", "thumbnails/other.png"]), Is.EquivalentTo(new[] { "thumbnails/shared.png" }));

        await _store.DeleteTaskAsync(second, key => Record(deleted, key));
        Assert.That(deleted, Is.EqualTo(new[] { "thumbnails/shared.png" }));
        Assert.That(await _store.ThumbnailKeysInUseAsync(["thumbnails/shared.png"]), Is.Empty);
    }

    [Test]
    public async Task Retention_deletes_a_shared_thumbnail_only_once_no_remaining_task_uses_it()
    {
        var old = await SucceededWithThumbnailAsync("thumbnails/a.png");
        _clock.Advance(TimeSpan.FromDays(10));
        var recent = await SucceededWithThumbnailAsync("thumbnails/a.png");
        var alone = await SucceededWithThumbnailAsync("thumbnails/b.png");
        var deleted = new List<string>();

        var expired = await _store.DeleteFinishedBeforeAsync(_clock.GetUtcNow().ToUnixTimeMilliseconds() + 1, 10, key => Record(deleted, key));

        Assert.That(expired.Select(task => task.Id), Is.EquivalentTo(new[] { old, recent, alone }));
        Assert.That(deleted, Is.EquivalentTo(new[] { "thumbnails/a.png", "thumbnails/b.png" }));
    }

    [Test]
    public async Task A_reference_to_a_thumbnail_waits_while_its_last_user_is_being_deleted()
    {
        var last = await SucceededWithThumbnailAsync("thumbnails/raced.png");
        var newcomer = await QueuedAsync();
        var lease = Lease(Me);
        await _store.TryClaimAsync(newcomer, lease);
        var deleting = new TaskCompletionSource();
        var release = new TaskCompletionSource();

        var deletion = _store.DeleteTaskAsync(last, async key =>
        {
            deleting.SetResult();
            await release.Task; // the blob is being deleted, under the key's lock
        });
        await deleting.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var reference = Task.Run(() => _store.ReferenceThumbnailAsync(newcomer, lease.Token, "thumbnails/raced.png"));

        Assert.That(await Task.WhenAny(reference, Task.Delay(500)), Is.Not.SameAs(reference), "the reference waits for the deletion to finish");
        release.SetResult();
        await deletion;
        Assert.That(await reference.WaitAsync(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(await _store.ThumbnailKeysInUseAsync(["thumbnails/raced.png"]), Is.EquivalentTo(new[] { "thumbnails/raced.png" }),
            "the newcomer's reference is recorded after the deletion, so its put stores the bytes again");
    }

    [Test]
    public async Task The_orphan_sweep_deletes_a_thumbnail_only_when_no_task_refers_to_it()
    {
        await SucceededWithThumbnailAsync("thumbnails/used.png");
        var deleted = new List<string>();

        Assert.That(await _store.DeleteThumbnailIfUnusedAsync("thumbnails/used.png", key => Record(deleted, key)), Is.False);
        Assert.That(await _store.DeleteThumbnailIfUnusedAsync("thumbnails/orphan.png", key => Record(deleted, key)), Is.True);
        Assert.That(deleted, Is.EqualTo(new[] { "thumbnails/orphan.png" }));
    }

    [Test]
    public async Task A_reference_to_a_thumbnail_waits_while_the_orphan_sweep_deletes_it()
    {
        var newcomer = await QueuedAsync();
        var lease = Lease(Me);
        await _store.TryClaimAsync(newcomer, lease);
        var deleting = new TaskCompletionSource();
        var release = new TaskCompletionSource();

        var deletion = _store.DeleteThumbnailIfUnusedAsync("thumbnails/orphan.png", async key =>
        {
            deleting.SetResult();
            await release.Task; // the blob is being deleted, under the key's lock
        });
        await deleting.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var reference = Task.Run(() => _store.ReferenceThumbnailAsync(newcomer, lease.Token, "thumbnails/orphan.png"));

        Assert.That(await Task.WhenAny(reference, Task.Delay(500)), Is.Not.SameAs(reference), "the reference waits for the deletion to finish");
        release.SetResult();
        Assert.That(await deletion, Is.True);
        Assert.That(await reference.WaitAsync(TimeSpan.FromSeconds(10)), Is.True, "then it is recorded, and the worker's put stores the bytes again");
    }

    [Test]
    public async Task Only_the_claim_holder_can_make_its_task_refer_to_a_thumbnail()
    {
        var id = await QueuedAsync();
        var lease = Lease(Me);
        await _store.TryClaimAsync(id, lease);

        Assert.That(await _store.ReferenceThumbnailAsync(id, Lease(Other).Token, "thumbnails/x.png"), Is.False);
        Assert.That(await _store.ReferenceThumbnailAsync(id, lease.Token, "thumbnails/x.png"), Is.True);
        Assert.That((await _store.FindAsync(id))!.ThumbnailKey, Is.EqualTo("thumbnails/x.png"));
    }

    [Test]
    public async Task One_sweeper_at_a_time_where_instances_share_the_database()
    {
        await using var first = await _store.TryTakeSweeperTurnAsync();
        Assert.That(first, Is.Not.Null);

        await using var second = await _store.TryTakeSweeperTurnAsync();

        // PostgreSQL hands out one turn (a row with a lease); one SQLite process sweeps in one loop anyway.
        Assert.That(second, Postgres ? Is.Null : Is.Not.Null);
    }

    [Test]
    public async Task The_turn_of_a_sweeper_is_free_again_once_it_is_given_back()
    {
        var first = await _store.TryTakeSweeperTurnAsync();
        await first!.DisposeAsync();

        await using var next = await _store.TryTakeSweeperTurnAsync();

        Assert.That(next, Is.Not.Null);
    }

    [Test]
    public async Task A_sweeper_turn_never_given_back_is_free_again_once_its_lease_has_run_out()
    {
        var frozen = await _store.TryTakeSweeperTurnAsync(); // never given back: its instance is frozen, its connection still open
        Assert.That(frozen, Is.Not.Null);

        _clock.Advance(PostgresTaskStore.SweeperTurnLength + TimeSpan.FromSeconds(1));
        await using var next = await _store.TryTakeSweeperTurnAsync();

        Assert.That(next, Is.Not.Null, "another instance sweeps");
    }

    [Test]
    public async Task Instances_that_migrate_at_the_same_second_all_succeed()
    {
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => _store.MigrateAsync())));

        Assert.That(await _store.CountQueuedAsync(), Is.Zero);
    }

    [Test]
    public async Task The_health_check_says_the_database_answers_and_counts_unfinished_tasks()
    {
        await QueuedAsync();

        var health = await _store.CheckHealthAsync(CancellationToken.None);

        Assert.That((health.Healthy, health.UnfinishedTasks), Is.EqualTo((true, 1L)));
    }

    private static Task NoThumbnailAsync(string key) => Task.CompletedTask;

    private static Task Record(List<string> deleted, string key)
    {
        lock (deleted)
        {
            deleted.Add(key);
        }

        return Task.CompletedTask;
    }

    private async Task<string> SucceededWithThumbnailAsync(string key)
    {
        var id = await QueuedAsync();
        var lease = Lease(Me);
        await _store.TryClaimAsync(id, lease);
        await _store.ReferenceThumbnailAsync(id, lease.Token, key);
        await _store.MarkSucceededAsync(id, lease.Token, Thumbnail());
        return id;
    }

    private TaskLease Lease(string owner) => TaskLease.New(owner, Expiry(TimeSpan.FromSeconds(15)));

    private long Expiry(TimeSpan after) => (_clock.GetUtcNow() + after).ToUnixTimeMilliseconds();

    private static StoredThumbnail Thumbnail() => new("image/png", 100, 100, 1234, "\"etag\"", 1);

    private async Task<string> QueuedAsync(long? createdAt = null)
    {
        var task = NewTask(createdAt: createdAt);
        await _store.InsertQueuedAsync(task);
        return task.Id;
    }

    private TaskRecord NewTask(string? idempotencyKey = null, long? createdAt = null, string? contentHash = null) => new()
    {
        Id = TaskId.New(), FileName = "a.png", InputFormat = "image/png", InputBytes = 1, InputWidth = 1, InputHeight = 1,
        Width = 100, Height = 100, Fit = "cover", Format = "auto", CreatedAt = createdAt ?? _clock.GetUtcNow().ToUnixTimeMilliseconds(),
        IdempotencyKey = idempotencyKey, RequestHash = idempotencyKey is null ? null : "hash", ContentHash = contentHash, MemoryBytes = 12345,
    };
}

using Microsoft.Extensions.Time.Testing;
using Npgsql;
using ThumbnailApi.Persistence;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// Instances that share PostgreSQL must not stall each other: an instance frozen inside a transaction
/// (a paused VM, SIGSTOP) keeps its locks until it runs again, so our transactions tell the server how
/// long they may sit idle (TransactionIdleLimits); past that the server ends the session and its locks
/// go. The one kind that is never cut off is a deletion that removes a blob under its key's lock: cut
/// off, it could remove the blob from under a worker that found it there.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class StalledTransactionTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly List<NpgsqlDataSource> _sources = [];
    private PostgresServer _server = null!;
    private string _database = null!;

    [SetUp]
    public async Task CreateDatabase()
    {
        _server = Requires.Postgres();
        _database = await _server.CreateDatabaseAsync();
    }

    [TearDown]
    public async Task DropDatabase()
    {
        foreach (var source in _sources)
        {
            await source.DisposeAsync();
        }

        await _server.DropDatabaseAsync(_database);
    }

    [Test]
    public async Task A_transaction_left_idle_past_its_limit_is_ended_by_the_database_and_a_worker_of_another_instance_waiting_for_its_lock_goes_on()
    {
        // The stalled transaction is a deletion given a short limit here, because a test can hold it idle
        // (its blob call waits for the test); the service gives the same limit, one lease, to the
        // transactions a worker takes a thumbnail key's lock in, which no test can stop halfway.
        var limits = new TransactionIdleLimits(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        var stalled = await InstanceAsync(limits);
        var working = await InstanceAsync(limits);
        const string key = "thumbnails/shared.png";
        var finished = await SucceededTaskAsync(stalled, key);
        var (workerTask, workerLease) = await ClaimedTaskAsync(working);

        var insideDeletion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thaw = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var deletion = Task.Run(() => stalled.DeleteTaskAsync(finished, async _ =>
        {
            insideDeletion.SetResult();
            await thaw.Task; // a frozen instance: it goes on only when the test lets it
        }));
        await insideDeletion.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var referenced = await working.ReferenceThumbnailAsync(workerTask, workerLease.Token, key).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.That(referenced, Is.True, "the worker took the key's lock once the server had ended the stalled transaction");

        thaw.SetResult();
        Assert.That(async () => await deletion, Throws.InstanceOf<StorageUnavailableException>(),
            "the thawed transaction finds its session gone and reports storage trouble, not success");
        Assert.That((await working.FindAsync(finished))?.State, Is.EqualTo(TaskState.Succeeded),
            "it was rolled back whole: the task it meant to delete is still there");
    }

    [Test]
    public async Task A_deletion_is_never_cut_off_however_long_its_blob_call_takes()
    {
        var limits = TransactionIdleLimits.For(new ServiceOptions { LeaseSeconds = 3 });
        Assert.That(limits.BetweenStatements, Is.EqualTo(TimeSpan.FromSeconds(3)), "other transactions: one lease");
        var instance = await InstanceAsync(limits);
        var finished = await SucceededTaskAsync(instance, "thumbnails/slow.png");

        var deleted = await instance.DeleteTaskAsync(finished, async _ => await Task.Delay(TimeSpan.FromSeconds(5)));

        Assert.That(deleted?.Id, Is.EqualTo(finished), "a blob call longer than a lease is waited for, and the deletion commits");
        Assert.That(await instance.FindAsync(finished), Is.Null);
    }

    /// <summary>One more instance on the shared database: a store on a connection pool of its own.</summary>
    private async Task<PostgresTaskStore> InstanceAsync(TransactionIdleLimits limits)
    {
        var source = NpgsqlDataSource.Create(_server.ConnectionString(_database));
        _sources.Add(source);
        var store = new PostgresTaskStore(new PostgresDatabase(source), _clock, limits);
        await store.MigrateAsync();
        return store;
    }

    private async Task<(string Id, TaskLease Lease)> ClaimedTaskAsync(PostgresTaskStore store)
    {
        var id = TaskId.New();
        await store.InsertQueuedAsync(new TaskRecord
        {
            Id = id, FileName = "a.png", InputFormat = "image/png", InputBytes = 1, InputWidth = 1, InputHeight = 1,
            Width = 100, Height = 100, Fit = "cover", Format = "auto", CreatedAt = _clock.GetUtcNow().ToUnixTimeMilliseconds(), MemoryBytes = 1,
        });
        var lease = TaskLease.New("instance", _clock.GetUtcNow().AddMinutes(5).ToUnixTimeMilliseconds());
        Assert.That(await store.TryClaimAsync(id, lease), Is.Not.Null);
        return (id, lease);
    }

    private async Task<string> SucceededTaskAsync(PostgresTaskStore store, string key)
    {
        var (id, lease) = await ClaimedTaskAsync(store);
        Assert.That(await store.ReferenceThumbnailAsync(id, lease.Token, key), Is.True);
        Assert.That(await store.MarkSucceededAsync(id, lease.Token, new StoredThumbnail("image/png", 100, 100, 10, "\"e\"", 1)), Is.True);
        return id;
    }
}

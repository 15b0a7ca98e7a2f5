using Microsoft.Extensions.Time.Testing;
using Npgsql;
using ThumbnailApi.Persistence;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// Instances that share PostgreSQL must not stall each other: an instance frozen inside a transaction
/// (a paused VM, SIGSTOP) keeps its locks until it runs again, so every transaction of ours tells the
/// server how long it may sit idle (TransactionIdleLimits); past that the server ends the session and
/// its locks go. Here the stalled instance is a deletion whose blob call never returns while it holds a
/// thumbnail key's lock, and the one waiting is another instance's worker storing a thumbnail with that key.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class StalledTransactionTests
{
    private static readonly TransactionIdleLimits ShortLimits = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));

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
    public async Task A_deletion_stalled_while_it_holds_a_thumbnail_s_lock_is_ended_by_the_database_and_a_worker_of_another_instance_storing_that_thumbnail_goes_on()
    {
        var stalled = await InstanceAsync();
        var working = await InstanceAsync();
        const string key = "thumbnails/shared.png";
        var finished = await SucceededTaskAsync(stalled, key);
        var (workerTask, workerLease) = await ClaimedTaskAsync(working);

        var insideDeletion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thaw = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var deletion = Task.Run(() => stalled.DeleteTaskAsync(finished, async _ =>
        {
            insideDeletion.SetResult();
            await thaw.Task; // the blob call of a frozen instance: it returns only when the instance runs again
        }));
        await insideDeletion.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var referenced = await working.ReferenceThumbnailAsync(workerTask, workerLease.Token, key).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.That(referenced, Is.True, "the worker took the key's lock once the server had ended the stalled transaction");

        thaw.SetResult();
        Assert.That(async () => await deletion, Throws.InstanceOf<StorageUnavailableException>(),
            "the thawed deletion finds its session gone and reports storage trouble, not success");
        Assert.That((await working.FindAsync(finished))?.State, Is.EqualTo(TaskState.Succeeded),
            "the deletion was rolled back whole: the task it meant to delete is still there");
    }

    [Test]
    public async Task A_transaction_that_does_not_stall_is_not_ended()
    {
        var instance = await InstanceAsync();
        const string key = "thumbnails/slow.png";
        var finished = await SucceededTaskAsync(instance, key);

        var deleted = await instance.DeleteTaskAsync(finished, async _ => await Task.Delay(TimeSpan.FromMilliseconds(300)));

        Assert.That(deleted?.Id, Is.EqualTo(finished), "a blob call well inside the limit is waited for");
        Assert.That(await instance.FindAsync(finished), Is.Null);
    }

    /// <summary>One more instance on the shared database: a store on a connection pool of its own.</summary>
    private async Task<PostgresTaskStore> InstanceAsync()
    {
        var source = NpgsqlDataSource.Create(_server.ConnectionString(_database));
        _sources.Add(source);
        var store = new PostgresTaskStore(new PostgresDatabase(source), _clock, ShortLimits);
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

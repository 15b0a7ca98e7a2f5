using System.Net.Sockets;
using Dapper;
using Npgsql;

namespace ThumbnailApi.Persistence;

/// <summary>
/// The task rows in a PostgreSQL database that several instances share. PostgreSQL does the
/// coordination: a claim takes the oldest queued row that no other transaction has locked
/// (<c>FOR UPDATE SKIP LOCKED</c>), a claim holds by its lease (renewed by heartbeats) and any
/// instance re-queues an expired one, writes that finish a task are fenced by the lease token, the
/// retention sweep runs in a turn held by a lease row, and the schema's triggers send the notifications
/// that <see cref="PostgresListener"/> turns into <see cref="TaskEvents"/> on every instance.
/// </summary>
public sealed class PostgresTaskStore(PostgresDatabase database, TimeProvider clock, TransactionIdleLimits idleLimits) : ITaskStore
{
    /// <summary>
    /// How long a sweeper's turn holds. A sweeper that takes longer, or is frozen, lets another instance
    /// sweep after it: two sweepers at once only repeat work (every deletion is checked under its key's lock).
    /// </summary>
    public static readonly TimeSpan SweeperTurnLength = TimeSpan.FromMinutes(15);

    private const string InsertQueuedSql =
        """
        INSERT INTO tasks (id, state, file_name, input_format, input_bytes, input_width, input_height,
                           width, height, fit, format, quality, attempts, created_at, idempotency_key, request_hash, content_hash, memory_bytes)
        VALUES (@Id, 'queued', @FileName, @InputFormat, @InputBytes, @InputWidth, @InputHeight,
                @Width, @Height, @Fit, @Format, @Quality, 0, @CreatedAt, @IdempotencyKey, @RequestHash, @ContentHash, @MemoryBytes)
        """;

    private const string ClaimSet =
        "state = 'processing', attempts = attempts + 1, started_at = @now, lease_owner = @Owner, lease_token = @Token, lease_expires_at = @ExpiresAt";

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    public Task MigrateAsync(CancellationToken cancellation = default) => Guard(() => database.MigrateAsync(cancellation));

    public Task InsertQueuedAsync(TaskRecord task) => Run(connection => connection.ExecuteAsync(InsertQueuedSql, task));

    public Task<TaskRecord?> InsertQueuedUnlessKeyTakenAsync(TaskRecord task, long keysValidSince) => Run(async connection =>
    {
        await using var transaction = await PostgresDatabase.BeginAsync(connection, idleLimits.BetweenStatements);
        await connection.ExecuteAsync(
            "UPDATE tasks SET idempotency_key = NULL WHERE idempotency_key = @IdempotencyKey AND created_at < @keysValidSince",
            new { task.IdempotencyKey, keysValidSince }, transaction);
        var inserted = await connection.ExecuteAsync(
            InsertQueuedSql + " ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING", task, transaction);
        var holder = inserted == 1
            ? null
            : await connection.QuerySingleAsync<TaskRecord>("SELECT * FROM tasks WHERE idempotency_key = @IdempotencyKey", new { task.IdempotencyKey }, transaction);
        await transaction.CommitAsync();
        return holder;
    });

    public Task<TaskRecord?> FindByIdempotencyKeyAsync(string key, long since) => Run(connection =>
        connection.QuerySingleOrDefaultAsync<TaskRecord>(
            "SELECT * FROM tasks WHERE idempotency_key = @key AND created_at >= @since", new { key, since }));

    public Task RemoveUnqueuedAsync(string id) => Run(connection => connection.ExecuteAsync("DELETE FROM tasks WHERE id = @id", new { id }));

    public Task<long> CountQueuedAsync() => Run(connection =>
        connection.ExecuteScalarAsync<long>("SELECT count(*) FROM tasks WHERE state = 'queued'"));

    public Task<TaskRecord?> FindAsync(string id) => Run(connection =>
        connection.QuerySingleOrDefaultAsync<TaskRecord>("SELECT * FROM tasks WHERE id = @id", new { id }));

    // Npgsql does not take Dapper's "IN @ids" list expansion (42601); an array parameter does.
    public Task<IReadOnlyList<TaskRecord>> FindManyAsync(IReadOnlyCollection<string> ids) => Run(async connection =>
        (IReadOnlyList<TaskRecord>)(await connection.QueryAsync<TaskRecord>("SELECT * FROM tasks WHERE id = ANY(@ids)", new { ids = ids.ToArray() })).AsList());

    public Task<TaskRecord?> FindSucceededTwinAsync(TaskRecord task, int pipelineRevision) => task.ContentHash is null
        ? Task.FromResult<TaskRecord?>(null)
        : Run(connection => connection.QueryFirstOrDefaultAsync<TaskRecord>(
            """
            SELECT * FROM tasks
            WHERE content_hash = @ContentHash AND state = 'succeeded' AND id <> @Id
              AND width = @Width AND height = @Height AND fit = @Fit AND format = @Format AND quality IS NOT DISTINCT FROM @Quality
              AND pipeline_revision = @pipelineRevision
            ORDER BY completed_at DESC LIMIT 1
            """,
            new { task.ContentHash, task.Id, task.Width, task.Height, task.Fit, task.Format, task.Quality, pipelineRevision }));

    public Task<IReadOnlyList<string>> QueuedIdsAsync() => Run(async connection =>
        (IReadOnlyList<string>)(await connection.QueryAsync<string>("SELECT id FROM tasks WHERE state = 'queued' ORDER BY created_at, id")).AsList());

    public Task<HashSet<string>> UnfinishedIdsAsync() => Run(async connection =>
        (await connection.QueryAsync<string>("SELECT id FROM tasks WHERE state IN ('queued', 'processing')")).ToHashSet());

    public Task<Dictionary<string, TaskFileOwner>> FileOwnersAsync(IReadOnlyCollection<string> ids) => Run(async connection =>
        (await connection.QueryAsync<(string Id, string State, string? LeaseToken)>(
            "SELECT id, state, lease_token FROM tasks WHERE id = ANY(@ids)", new { ids = ids.ToArray() }))
        .ToDictionary(row => row.Id, row => new TaskFileOwner(row.State, row.LeaseToken), StringComparer.Ordinal));

    public Task<TaskRecord?> TryClaimAsync(string id, TaskLease lease) => Run(connection =>
        connection.QuerySingleOrDefaultAsync<TaskRecord>(
            $"UPDATE tasks SET {ClaimSet} WHERE id = @id AND state = 'queued' RETURNING *",
            new { id, now = Now, lease.Owner, lease.Token, lease.ExpiresAt }));

    /// <summary>The oldest queued row no other transaction is claiming: concurrent claimers skip each other's rows instead of waiting.</summary>
    public Task<TaskRecord?> ClaimNextAsync(TaskLease lease) => Run(connection =>
        connection.QuerySingleOrDefaultAsync<TaskRecord>(
            $"""
            UPDATE tasks SET {ClaimSet}
            WHERE id = (SELECT id FROM tasks WHERE state = 'queued' ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING *
            """,
            new { now = Now, lease.Owner, lease.Token, lease.ExpiresAt }));

    public Task<bool> RenewLeaseAsync(string id, TaskLease lease) => Run(async connection =>
        await connection.ExecuteAsync(
            "UPDATE tasks SET lease_expires_at = @ExpiresAt WHERE id = @id AND state = 'processing' AND lease_token = @Token",
            new { id, lease.ExpiresAt, lease.Token }) == 1);

    /// <summary>Under the key's advisory lock, which a deletion of the same key holds while it checks for references and deletes the blob.</summary>
    public Task<bool> ReferenceThumbnailAsync(string id, string leaseToken, string key) => Run(async connection =>
    {
        await using var transaction = await PostgresDatabase.BeginAsync(connection, idleLimits.BetweenStatements);
        await LockThumbnailAsync(connection, transaction, key);
        var referenced = await connection.ExecuteAsync(
            "UPDATE tasks SET thumbnail_key = @key WHERE id = @id AND state = 'processing' AND lease_token = @leaseToken",
            new { id, leaseToken, key }, transaction) == 1;
        await transaction.CommitAsync();
        return referenced;
    });

    public Task<bool> MarkSucceededAsync(string id, string leaseToken, StoredThumbnail thumbnail) => Run(async connection =>
        await connection.ExecuteAsync(
            """
            UPDATE tasks SET state = 'succeeded', completed_at = @now, lease_expires_at = NULL,
                             thumbnail_type = @ContentType, thumbnail_width = @Width, thumbnail_height = @Height,
                             thumbnail_bytes = @Bytes, thumbnail_etag = @ETag, pipeline_revision = @PipelineRevision
            WHERE id = @id AND state = 'processing' AND lease_token = @leaseToken
            """,
            new { id, leaseToken, now = Now, thumbnail.ContentType, thumbnail.Width, thumbnail.Height, thumbnail.Bytes, thumbnail.ETag, thumbnail.PipelineRevision }) == 1);

    public Task<bool> MarkFailedAsync(string id, string leaseToken, string code, string message) => Run(async connection =>
        await connection.ExecuteAsync(
            """
            UPDATE tasks SET state = 'failed', completed_at = @now, lease_expires_at = NULL, error_code = @code, error_message = @message
            WHERE id = @id AND state = 'processing' AND lease_token = @leaseToken
            """,
            new { id, leaseToken, code, message, now = Now }) == 1);

    public Task<bool> ReleaseClaimAsync(string id, string leaseToken) => Run(async connection =>
        await connection.ExecuteAsync(
            """
            UPDATE tasks SET state = 'queued', attempts = attempts - 1, started_at = NULL,
                             lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
            WHERE id = @id AND state = 'processing' AND lease_token = @leaseToken
            """,
            new { id, leaseToken }) == 1);

    /// <summary>
    /// Several instances share the database, so only a lease past its expiry is abandoned: a live
    /// instance renews its leases, and start-up must not steal the claims of instances still working.
    /// </summary>
    public Task<RecoveredTasks> RequeueAbandonedAsync(string instanceId, int maxAttempts, string crashedMessage) => Run(async connection =>
    {
        const string Abandoned = "state = 'processing' AND lease_expires_at < @now";
        var now = Now;
        await using var transaction = await PostgresDatabase.BeginAsync(connection, idleLimits.BetweenStatements);
        var givenUp = (await connection.QueryAsync<string>(
            $"""
            UPDATE tasks SET state = 'failed', completed_at = @now, lease_expires_at = NULL,
                             error_code = 'processing_crashed', error_message = @crashedMessage
            WHERE {Abandoned} AND attempts >= @maxAttempts
            RETURNING id
            """,
            new { now, maxAttempts, crashedMessage }, transaction)).AsList();
        var requeued = (await connection.QueryAsync<string>(
            $"""
            UPDATE tasks SET state = 'queued', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
            WHERE {Abandoned}
            RETURNING id
            """,
            new { now }, transaction)).AsList();
        await transaction.CommitAsync();
        return new RecoveredTasks(requeued, givenUp);
    });

    public Task<TaskRecord?> DeleteTaskAsync(string id, Func<string, Task> deleteThumbnail) => Run(async connection =>
    {
        await using var transaction = await PostgresDatabase.BeginAsync(connection, idleLimits.AroundBlobCalls);
        var task = await connection.QuerySingleOrDefaultAsync<TaskRecord>("DELETE FROM tasks WHERE id = @id RETURNING *", new { id }, transaction);
        if (task is not null)
        {
            await DeleteUnreferencedAsync(connection, transaction, [task], deleteThumbnail);
        }

        await transaction.CommitAsync();
        return task;
    });

    public Task<IReadOnlyList<TaskRecord>> DeleteFinishedBeforeAsync(long finishedBefore, int limit, Func<string, Task> deleteThumbnail) => Run(async connection =>
    {
        await using var transaction = await PostgresDatabase.BeginAsync(connection, idleLimits.AroundBlobCalls);
        var deleted = (await connection.QueryAsync<TaskRecord>(
            """
            DELETE FROM tasks WHERE id IN (
                SELECT id FROM tasks WHERE state IN ('succeeded', 'failed') AND completed_at < @finishedBefore
                ORDER BY completed_at LIMIT @limit FOR UPDATE SKIP LOCKED)
            RETURNING *
            """,
            new { finishedBefore, limit }, transaction)).AsList();
        await DeleteUnreferencedAsync(connection, transaction, deleted, deleteThumbnail);
        await transaction.CommitAsync();
        return (IReadOnlyList<TaskRecord>)deleted;
    });

    public Task<HashSet<string>> ThumbnailKeysInUseAsync(IReadOnlyCollection<string> keys) => Run(async connection =>
        (await connection.QueryAsync<string>("SELECT DISTINCT thumbnail_key FROM tasks WHERE thumbnail_key = ANY(@keys)", new { keys = keys.ToArray() }))
        .ToHashSet(StringComparer.Ordinal));

    public Task<bool> DeleteThumbnailIfUnusedAsync(string key, Func<string, Task> deleteThumbnail) => Run(async connection =>
    {
        await using var transaction = await PostgresDatabase.BeginAsync(connection, idleLimits.AroundBlobCalls);
        var deleted = await DeleteIfUnreferencedAsync(connection, transaction, key, deleteThumbnail);
        await transaction.CommitAsync();
        return deleted;
    });

    /// <summary>
    /// Deletes the thumbnails of <paramref name="deleted"/> that no remaining task refers to, each under its
    /// key's lock (taken in key order, so two deleters never wait for each other), inside the deleting transaction.
    /// </summary>
    private static async Task DeleteUnreferencedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
                                                      IEnumerable<TaskRecord> deleted, Func<string, Task> deleteThumbnail)
    {
        foreach (var key in deleted.Select(task => task.ThumbnailKey).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            await DeleteIfUnreferencedAsync(connection, transaction, key, deleteThumbnail);
        }
    }

    /// <summary>
    /// Under the key's lock, held to the end of the transaction: a worker's <see cref="ReferenceThumbnailAsync"/>
    /// takes the same lock, so it either committed before the check (which then sees it, read committed:
    /// each statement sees what was committed before it began) or waits until the blob is deleted and
    /// this transaction is over, and then stores the bytes again. Two deleters of the last two users check
    /// one after the other, the second after the first's commit, so one of them sees no user left.
    /// </summary>
    private static async Task<bool> DeleteIfUnreferencedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
                                                              string key, Func<string, Task> deleteThumbnail)
    {
        await LockThumbnailAsync(connection, transaction, key);
        if (await connection.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM tasks WHERE thumbnail_key = @key)", new { key }, transaction))
        {
            return false;
        }

        await deleteThumbnail(key);
        return true;
    }

    /// <summary>A transaction-level advisory lock on one thumbnail key (released at commit or rollback).</summary>
    private static Task LockThumbnailAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string key) =>
        connection.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtextextended(@key, 0))", new { key }, transaction);

    /// <summary>
    /// The sweeper's turn is a row with a lease, not a session lock: a session lock stays with an
    /// instance that is frozen (a SIGSTOP keeps its connection open), and no instance would sweep until
    /// it ran again. A turn whose lease has run out is anyone's.
    /// </summary>
    public async Task<IAsyncDisposable?> TryTakeSweeperTurnAsync()
    {
        var holder = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        var now = Now;
        var taken = await Run(async connection => await connection.ExecuteAsync(
            "UPDATE sweeper_turn SET holder = @holder, expires_at = @until WHERE id = 1 AND expires_at < @now",
            new { holder, now, until = now + (long)SweeperTurnLength.TotalMilliseconds }) == 1);
        return taken ? new SweeperTurn(this, holder) : null;
    }

    private Task GiveBackSweeperTurnAsync(string holder) => Run(connection => connection.ExecuteAsync(
        "UPDATE sweeper_turn SET expires_at = 0 WHERE id = 1 AND holder = @holder", new { holder }));

    public async Task<StoreHealth> CheckHealthAsync(CancellationToken cancellation)
    {
        try
        {
            var (unfinished, writable) = await Run(async connection => await connection.QuerySingleAsync<(long, bool)>(
                """
                SELECT (SELECT count(*) FROM tasks WHERE state IN ('queued', 'processing')),
                       NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'
                """));
            return writable
                ? new StoreHealth(true, "The database answers.", unfinished)
                : new StoreHealth(false, "The database answers but takes no writes (a read-only server or replica).", unfinished);
        }
        catch (StorageUnavailableException problem)
        {
            var detail = problem.InnerException is PostgresException postgres ? $"PostgreSQL error {postgres.SqlState}" : "no connection";
            return new StoreHealth(false, $"The database does not answer ({detail}).", null);
        }
    }

    private Task<T> Run<T>(Func<NpgsqlConnection, Task<T>> work) => Guard(async () =>
    {
        await using var connection = await database.OpenAsync();
        return await work(connection);
    });

    private async Task Run(Func<NpgsqlConnection, Task> work) => await Run(async connection =>
    {
        await work(connection);
        return 0;
    });

    private static async Task<T> Guard<T>(Func<Task<T>> work)
    {
        try
        {
            return await work();
        }
        catch (Exception problem) when (IsStorageTrouble(problem))
        {
            throw new StorageUnavailableException(problem);
        }
    }

    private static async Task Guard(Func<Task> work) => await Guard(async () =>
    {
        await work();
        return 0;
    });

    /// <summary>
    /// The server cannot be reached or cannot work now (connection refused or broken, shutting down,
    /// out of disk or connections, read-only): storage trouble. Errors in a statement are bugs and pass.
    /// </summary>
    private static bool IsStorageTrouble(Exception problem) => problem switch
    {
        PostgresException postgres => postgres.SqlState.StartsWith("08", StringComparison.Ordinal) // connection exception
                                      || postgres.SqlState.StartsWith("53", StringComparison.Ordinal) // insufficient resources (disk full, too many connections)
                                      || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal) // shutting down, cannot connect now
                                      || postgres.SqlState is "25006" or "40001" or "40P01" // read-only transaction; serialization failure, deadlock: retry later
                                          or "25P03", // this instance stalled inside a transaction past its idle limit (TransactionIdleLimits): rolled back
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is SocketException or IOException or TimeoutException,
        SocketException or TimeoutException => true,
        _ => false,
    };

    private sealed class SweeperTurn(PostgresTaskStore store, string holder) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await store.GiveBackSweeperTurnAsync(holder);
            }
            catch (StorageUnavailableException)
            {
                // The database cannot be reached: the turn's lease runs out by itself.
            }
        }
    }
}

using Dapper;
using Microsoft.Data.Sqlite;

namespace ThumbnailApi.Persistence;

/// <summary>
/// The task rows in the service's SQLite file: the zero-configuration default, for one process.
/// SQLite serialises writers, so a claim is a plain conditional UPDATE. One process owns the file, so
/// at start-up every claim still open was made by a process that died. Announcements are raised in
/// this process right after the commit.
/// </summary>
public sealed class SqliteTaskStore(SqliteDatabase database, TimeProvider clock, TaskEvents events) : ITaskStore
{
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

    public Task MigrateAsync(CancellationToken cancellation = default)
    {
        try
        {
            database.Migrate();
            return Task.CompletedTask;
        }
        catch (SqliteException problem) when (IsStorageTrouble(problem))
        {
            throw new StorageUnavailableException(problem);
        }
    }

    public Task InsertQueuedAsync(TaskRecord task) => Run(async connection =>
    {
        await connection.ExecuteAsync(InsertQueuedSql, task);
        events.RaiseWorkQueued();
        return 0;
    });

    public Task<TaskRecord?> InsertQueuedUnlessKeyTakenAsync(TaskRecord task, long keysValidSince) => Run(async connection =>
    {
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync(
            "UPDATE tasks SET idempotency_key = NULL WHERE idempotency_key = @IdempotencyKey AND created_at < @keysValidSince",
            new { task.IdempotencyKey, keysValidSince }, transaction);
        var inserted = await connection.ExecuteAsync(
            InsertQueuedSql + " ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING", task, transaction);
        var holder = inserted == 1
            ? null
            : await connection.QuerySingleAsync<TaskRecord>("SELECT * FROM tasks WHERE idempotency_key = @IdempotencyKey", new { task.IdempotencyKey }, transaction);
        await transaction.CommitAsync();
        if (holder is null)
        {
            events.RaiseWorkQueued();
        }

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

    public Task<IReadOnlyList<TaskRecord>> FindManyAsync(IReadOnlyCollection<string> ids) => Run(async connection =>
        (IReadOnlyList<TaskRecord>)(await connection.QueryAsync<TaskRecord>("SELECT * FROM tasks WHERE id IN @ids", new { ids })).AsList());

    public Task<TaskRecord?> FindSucceededTwinAsync(TaskRecord task, int pipelineRevision) => task.ContentHash is null
        ? Task.FromResult<TaskRecord?>(null)
        : Run(connection => connection.QueryFirstOrDefaultAsync<TaskRecord>(
            """
            SELECT * FROM tasks
            WHERE content_hash = @ContentHash AND state = 'succeeded' AND id <> @Id
              AND width = @Width AND height = @Height AND fit = @Fit AND format = @Format AND quality IS @Quality
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
            "SELECT id, state, lease_token FROM tasks WHERE id IN @ids", new { ids }))
        .ToDictionary(row => row.Id, row => new TaskFileOwner(row.State, row.LeaseToken), StringComparer.Ordinal));

    public Task<TaskRecord?> TryClaimAsync(string id, TaskLease lease) => Run(connection =>
        connection.QuerySingleOrDefaultAsync<TaskRecord>(
            $"UPDATE tasks SET {ClaimSet} WHERE id = @id AND state = 'queued' RETURNING *",
            new { id, now = Now, lease.Owner, lease.Token, lease.ExpiresAt }));

    public Task<TaskRecord?> ClaimNextAsync(TaskLease lease) => Run(connection =>
        connection.QuerySingleOrDefaultAsync<TaskRecord>(
            $"""
            UPDATE tasks SET {ClaimSet}
            WHERE id = (SELECT id FROM tasks WHERE state = 'queued' ORDER BY created_at, id LIMIT 1)
            RETURNING *
            """,
            new { now = Now, lease.Owner, lease.Token, lease.ExpiresAt }));

    public Task<bool> RenewLeaseAsync(string id, TaskLease lease) => Run(async connection =>
        await connection.ExecuteAsync(
            "UPDATE tasks SET lease_expires_at = @ExpiresAt WHERE id = @id AND state = 'processing' AND lease_token = @Token",
            new { id, lease.ExpiresAt, lease.Token }) == 1);

    /// <summary>SQLite serialises writers: this write waits for a deletion's transaction, which holds the file's write lock while it deletes a blob.</summary>
    public Task<bool> ReferenceThumbnailAsync(string id, string leaseToken, string key) => Run(async connection =>
        await connection.ExecuteAsync(
            "UPDATE tasks SET thumbnail_key = @key WHERE id = @id AND state = 'processing' AND lease_token = @leaseToken",
            new { id, leaseToken, key }) == 1);

    public Task<bool> MarkSucceededAsync(string id, string leaseToken, StoredThumbnail thumbnail) => Finish(id, connection =>
        connection.ExecuteAsync(
            """
            UPDATE tasks SET state = 'succeeded', completed_at = @now, lease_expires_at = NULL,
                             thumbnail_type = @ContentType, thumbnail_width = @Width, thumbnail_height = @Height,
                             thumbnail_bytes = @Bytes, thumbnail_etag = @ETag, pipeline_revision = @PipelineRevision
            WHERE id = @id AND state = 'processing' AND lease_token = @leaseToken
            """,
            new { id, leaseToken, now = Now, thumbnail.ContentType, thumbnail.Width, thumbnail.Height, thumbnail.Bytes, thumbnail.ETag, thumbnail.PipelineRevision }));

    public Task<bool> MarkFailedAsync(string id, string leaseToken, string code, string message) => Finish(id, connection =>
        connection.ExecuteAsync(
            """
            UPDATE tasks SET state = 'failed', completed_at = @now, lease_expires_at = NULL, error_code = @code, error_message = @message
            WHERE id = @id AND state = 'processing' AND lease_token = @leaseToken
            """,
            new { id, leaseToken, code, message, now = Now }));

    public Task<bool> ReleaseClaimAsync(string id, string leaseToken) => Run(async connection =>
    {
        var released = await connection.ExecuteAsync(
            """
            UPDATE tasks SET state = 'queued', attempts = attempts - 1, started_at = NULL,
                             lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
            WHERE id = @id AND state = 'processing' AND lease_token = @leaseToken
            """,
            new { id, leaseToken }) == 1;
        if (released)
        {
            events.RaiseWorkQueued();
        }

        return released;
    });

    /// <summary>One process owns the file: a claim by another instance id, or one past its expiry, is abandoned.</summary>
    public Task<RecoveredTasks> RequeueAbandonedAsync(string instanceId, int maxAttempts, string crashedMessage) => Run(async connection =>
    {
        const string Abandoned = "state = 'processing' AND (lease_owner IS NULL OR lease_owner <> @instanceId OR lease_expires_at < @now)";
        var now = Now;
        await using var transaction = await connection.BeginTransactionAsync();
        var givenUp = (await connection.QueryAsync<string>(
            $"""
            UPDATE tasks SET state = 'failed', completed_at = @now, lease_expires_at = NULL,
                             error_code = 'processing_crashed', error_message = @crashedMessage
            WHERE {Abandoned} AND attempts >= @maxAttempts
            RETURNING id
            """,
            new { instanceId, now, maxAttempts, crashedMessage }, transaction)).AsList();
        var requeued = (await connection.QueryAsync<string>(
            $"""
            UPDATE tasks SET state = 'queued', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
            WHERE {Abandoned}
            RETURNING id
            """,
            new { instanceId, now }, transaction)).AsList();
        await transaction.CommitAsync();
        foreach (var id in givenUp)
        {
            events.RaiseFinished(id);
        }

        if (requeued.Count > 0)
        {
            events.RaiseWorkQueued();
        }

        return new RecoveredTasks(requeued, givenUp);
    });

    /// <summary>
    /// The key's lock is SQLite's one write lock: Microsoft.Data.Sqlite begins a transaction with BEGIN
    /// IMMEDIATE, so the deletion holds the lock from its first statement to its commit, the check for
    /// other users and the blob's deletion included, and a worker's <see cref="ReferenceThumbnailAsync"/>
    /// (a write) waits for it.
    /// </summary>
    public Task<TaskRecord?> DeleteTaskAsync(string id, Func<string, Task> deleteThumbnail) => Run(async connection =>
    {
        // A transaction holds SQLite's write lock (BEGIN IMMEDIATE) until it ends: no reference to the
        // thumbnail can be written between the check below and the blob's deletion.
        await using var transaction = await connection.BeginTransactionAsync();
        var task = await connection.QuerySingleOrDefaultAsync<TaskRecord>("DELETE FROM tasks WHERE id = @id RETURNING *", new { id }, transaction);
        if (task is not null)
        {
            await DeleteUnreferencedAsync(connection, transaction, [task], deleteThumbnail);
        }

        await transaction.CommitAsync();
        if (task is not null)
        {
            events.RaiseFinished(id);
        }

        return task;
    });

    public Task<IReadOnlyList<TaskRecord>> DeleteFinishedBeforeAsync(long finishedBefore, int limit, Func<string, Task> deleteThumbnail) => Run(async connection =>
    {
        await using var transaction = await connection.BeginTransactionAsync();
        var deleted = (await connection.QueryAsync<TaskRecord>(
            """
            DELETE FROM tasks WHERE id IN (
                SELECT id FROM tasks WHERE state IN ('succeeded', 'failed') AND completed_at < @finishedBefore
                ORDER BY completed_at LIMIT @limit)
            RETURNING *
            """,
            new { finishedBefore, limit }, transaction)).AsList();
        await DeleteUnreferencedAsync(connection, transaction, deleted, deleteThumbnail);
        await transaction.CommitAsync();
        return (IReadOnlyList<TaskRecord>)deleted;
    });

    public Task<HashSet<string>> ThumbnailKeysInUseAsync(IReadOnlyCollection<string> keys) => Run(async connection =>
        (await connection.QueryAsync<string>("SELECT DISTINCT thumbnail_key FROM tasks WHERE thumbnail_key IN @keys", new { keys })).ToHashSet(StringComparer.Ordinal));

    public Task<bool> DeleteThumbnailIfUnusedAsync(string key, Func<string, Task> deleteThumbnail) => Run(async connection =>
    {
        // BEGIN IMMEDIATE takes the write lock before the check, though this transaction writes no row:
        // a reference cannot be written between the check and the blob's deletion.
        await using var transaction = await connection.BeginTransactionAsync();
        var deleted = await DeleteIfUnreferencedAsync(connection, transaction, key, deleteThumbnail);
        await transaction.CommitAsync();
        return deleted;
    });

    /// <summary>Deletes the thumbnails of <paramref name="deleted"/> that no remaining task refers to, inside the deleting transaction.</summary>
    private static async Task DeleteUnreferencedAsync(SqliteConnection connection, System.Data.Common.DbTransaction transaction,
                                                      IEnumerable<TaskRecord> deleted, Func<string, Task> deleteThumbnail)
    {
        foreach (var key in deleted.Select(task => task.ThumbnailKey).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            await DeleteIfUnreferencedAsync(connection, transaction, key, deleteThumbnail);
        }
    }

    private static async Task<bool> DeleteIfUnreferencedAsync(SqliteConnection connection, System.Data.Common.DbTransaction transaction,
                                                              string key, Func<string, Task> deleteThumbnail)
    {
        if (await connection.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM tasks WHERE thumbnail_key = @key)", new { key }, transaction))
        {
            return false;
        }

        await deleteThumbnail(key);
        return true;
    }

    /// <summary>One process: its sweeps never overlap (the retention service runs them one after another).</summary>
    public Task<IAsyncDisposable?> TryTakeSweeperTurnAsync() => Task.FromResult<IAsyncDisposable?>(NoTurn.Instance);

    /// <summary>Counts the unfinished tasks, then takes the write lock and lets it go without writing.</summary>
    public async Task<StoreHealth> CheckHealthAsync(CancellationToken cancellation)
    {
        try
        {
            var unfinished = await Run(async connection =>
            {
                var count = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM tasks WHERE state IN ('queued', 'processing')");
                await connection.ExecuteAsync("BEGIN IMMEDIATE; ROLLBACK;");
                return count;
            });
            return new StoreHealth(true, "The database answers.", unfinished);
        }
        catch (StorageUnavailableException problem) when (problem.InnerException is SqliteException sqlite)
        {
            return new StoreHealth(false, $"The database does not answer (SQLite error {sqlite.SqliteErrorCode}).", null);
        }
    }

    private Task<bool> Finish(string id, Func<SqliteConnection, Task<int>> update) => Run(async connection =>
    {
        var finished = await update(connection) == 1;
        if (finished)
        {
            events.RaiseFinished(id);
        }

        return finished;
    });

    /// <summary>Runs <paramref name="work"/> on a new connection; storage trouble leaves as <see cref="StorageUnavailableException"/>.</summary>
    private async Task<T> Run<T>(Func<SqliteConnection, Task<T>> work)
    {
        try
        {
            await using var connection = database.Open();
            return await work(connection);
        }
        catch (SqliteException problem) when (IsStorageTrouble(problem))
        {
            throw new StorageUnavailableException(problem);
        }
    }

    /// <summary>SQLite's primary result codes (sqlite3.h) that mean the file or disk cannot be used, not a bug.</summary>
    private static bool IsStorageTrouble(SqliteException problem) => problem.SqliteErrorCode is
        3 /* PERM */ or 5 /* BUSY */ or 6 /* LOCKED */ or 8 /* READONLY */ or 10 /* IOERR */ or 11 /* CORRUPT */
        or 13 /* FULL */ or 14 /* CANTOPEN */ or 26 /* NOTADB */;

    private sealed class NoTurn : IAsyncDisposable
    {
        public static readonly NoTurn Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

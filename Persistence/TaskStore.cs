using Dapper;

namespace ThumbnailApi.Persistence;

/// <summary>All SQL of the service, one method per intent. The row is the source of truth for a task.</summary>
public sealed class TaskStore(Database database, TimeProvider clock)
{
    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    private const string InsertQueuedSql =
        """
        INSERT INTO tasks (id, state, file_name, input_format, input_bytes, input_width, input_height,
                           width, height, fit, format, attempts, created_at, idempotency_key, request_hash, content_hash, memory_bytes)
        VALUES (@Id, 'queued', @FileName, @InputFormat, @InputBytes, @InputWidth, @InputHeight,
                @Width, @Height, @Fit, @Format, 0, @CreatedAt, @IdempotencyKey, @RequestHash, @ContentHash, @MemoryBytes)
        """;

    /// <summary>Records an accepted upload as a queued task.</summary>
    public void InsertQueued(TaskRecord task)
    {
        using var connection = database.Open();
        connection.Execute(InsertQueuedSql, task);
    }

    /// <summary>
    /// The most recent successful task made from the same bytes with the same options by pipeline
    /// revision <paramref name="pipelineRevision"/>, if any: its thumbnail is this task's thumbnail too.
    /// </summary>
    public TaskRecord? FindSucceededTwin(TaskRecord task, int pipelineRevision)
    {
        if (task.ContentHash is null)
        {
            return null;
        }

        using var connection = database.Open();
        return connection.QueryFirstOrDefault<TaskRecord>(
            """
            SELECT * FROM tasks
            WHERE content_hash = @ContentHash AND state = 'succeeded' AND id <> @Id
              AND width = @Width AND height = @Height AND fit = @Fit AND format = @Format
              AND pipeline_revision = @pipelineRevision
            ORDER BY completed_at DESC LIMIT 1
            """,
            new { task.ContentHash, task.Id, task.Width, task.Height, task.Fit, task.Format, pipelineRevision });
    }

    /// <summary>Removes a task outright (an upload that could not be queued).</summary>
    public void Delete(string id)
    {
        using var connection = database.Open();
        connection.Execute("DELETE FROM tasks WHERE id = @id", new { id });
    }

    public TaskRecord? Find(string id)
    {
        using var connection = database.Open();
        return connection.QuerySingleOrDefault<TaskRecord>("SELECT * FROM tasks WHERE id = @id", new { id });
    }

    /// <summary>
    /// Atomically takes a queued task for processing and counts the attempt. Null when the task is
    /// gone or another worker has it, so an id that reaches the queue twice is processed once.
    /// </summary>
    public TaskRecord? TryClaim(string id)
    {
        using var connection = database.Open();
        return connection.QuerySingleOrDefault<TaskRecord>(
            """
            UPDATE tasks SET state = 'processing', attempts = attempts + 1, started_at = @now
            WHERE id = @id AND state = 'queued'
            RETURNING *
            """,
            new { id, now = Now });
    }

    /// <summary>Records the thumbnail, if the claim made in <paramref name="attempt"/> still holds.</summary>
    public bool MarkSucceeded(string id, int attempt, StoredThumbnail thumbnail)
    {
        using var connection = database.Open();
        return connection.Execute(
            """
            UPDATE tasks SET state = 'succeeded', completed_at = @now,
                             thumbnail_type = @ContentType, thumbnail_width = @Width, thumbnail_height = @Height,
                             thumbnail_bytes = @Bytes, thumbnail_etag = @ETag, pipeline_revision = @PipelineRevision
            WHERE id = @id AND state = 'processing' AND attempts = @attempt
            """,
            new { id, attempt, now = Now, thumbnail.ContentType, thumbnail.Width, thumbnail.Height, thumbnail.Bytes, thumbnail.ETag, thumbnail.PipelineRevision }) == 1;
    }

    /// <summary>Records why a task failed, if the claim made in <paramref name="attempt"/> still holds.</summary>
    public bool MarkFailed(string id, int attempt, string code, string message)
    {
        using var connection = database.Open();
        return connection.Execute(
            """
            UPDATE tasks SET state = 'failed', completed_at = @now, error_code = @code, error_message = @message
            WHERE id = @id AND state = 'processing' AND attempts = @attempt
            """,
            new { id, attempt, code, message, now = Now }) == 1;
    }

    /// <summary>
    /// Puts a claimed task back in the queue without counting the attempt, if the claim made in
    /// <paramref name="attempt"/> still holds: for work stopped by storage trouble, not by the image.
    /// </summary>
    public bool ReleaseClaim(string id, int attempt)
    {
        using var connection = database.Open();
        return connection.Execute(
            """
            UPDATE tasks SET state = 'queued', attempts = attempts - 1, started_at = NULL
            WHERE id = @id AND state = 'processing' AND attempts = @attempt
            """,
            new { id, attempt }) == 1;
    }

    /// <summary>
    /// At start-up: tasks that already used up their attempts are failed with
    /// <c>processing_crashed</c>; every other unfinished task goes back to queued, oldest first.
    /// </summary>
    public RecoveredTasks RecoverUnfinished(int maxAttempts, string crashedMessage)
    {
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction();
        var givenUp = connection.Query<string>(
            """
            UPDATE tasks SET state = 'failed', completed_at = @now, error_code = 'processing_crashed', error_message = @crashedMessage
            WHERE state IN ('queued', 'processing') AND attempts >= @maxAttempts
            RETURNING id
            """,
            new { maxAttempts, crashedMessage, now = Now }, transaction).AsList();
        connection.Execute("UPDATE tasks SET state = 'queued' WHERE state = 'processing'", transaction: transaction);
        var requeued = connection.Query<string>(
            "SELECT id FROM tasks WHERE state = 'queued' ORDER BY created_at, id", transaction: transaction).AsList();
        transaction.Commit();
        return new RecoveredTasks(requeued, givenUp);
    }

    /// <summary>Tasks queued or being processed; also proves the database answers (readiness).</summary>
    public long CountUnfinished()
    {
        using var connection = database.Open();
        return connection.ExecuteScalar<long>("SELECT count(*) FROM tasks WHERE state IN ('queued', 'processing')");
    }

    /// <summary>
    /// Takes the write lock and lets it go without writing: throws when the database cannot be
    /// written (read-only, locked, disk full), so readiness can tell before an upload finds out.
    /// </summary>
    public void ProbeWritable()
    {
        using var connection = database.Open();
        connection.Execute("BEGIN IMMEDIATE; ROLLBACK;");
    }

    /// <summary>Ids of tasks whose upload must be kept (not yet finished).</summary>
    public HashSet<string> UnfinishedIds()
    {
        using var connection = database.Open();
        return connection.Query<string>("SELECT id FROM tasks WHERE state IN ('queued', 'processing')").ToHashSet();
    }

    /// <summary>
    /// Records an upload sent with an idempotency key, unless a task created at or after
    /// <paramref name="keysValidSince"/> already holds the key: then nothing is written and that task is
    /// returned. An older holder gives the key up. Two concurrent requests with one key cannot both
    /// insert (a unique index), so the loser gets the winner's task.
    /// </summary>
    public TaskRecord? InsertQueuedUnlessKeyTaken(TaskRecord task, long keysValidSince)
    {
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction();
        connection.Execute(
            "UPDATE tasks SET idempotency_key = NULL WHERE idempotency_key = @IdempotencyKey AND created_at < @keysValidSince",
            new { task.IdempotencyKey, keysValidSince }, transaction);
        var inserted = connection.Execute(
            InsertQueuedSql + " ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING", task, transaction);
        var holder = inserted == 1
            ? null
            : connection.QuerySingle<TaskRecord>("SELECT * FROM tasks WHERE idempotency_key = @IdempotencyKey", new { task.IdempotencyKey }, transaction);
        transaction.Commit();
        return holder;
    }

    /// <summary>The task created at or after <paramref name="since"/> with this idempotency key, if any.</summary>
    public TaskRecord? FindByIdempotencyKey(string key, long since)
    {
        using var connection = database.Open();
        return connection.QuerySingleOrDefault<TaskRecord>(
            "SELECT * FROM tasks WHERE idempotency_key = @key AND created_at >= @since", new { key, since });
    }

    /// <summary>The known tasks among <paramref name="ids"/>, in one query (unknown ids are simply absent).</summary>
    public IReadOnlyList<TaskRecord> FindMany(IReadOnlyCollection<string> ids)
    {
        using var connection = database.Open();
        return connection.Query<TaskRecord>("SELECT * FROM tasks WHERE id IN @ids", new { ids }).AsList();
    }

    /// <summary>Deletes a task and returns its row as it was, so its files can go too; null when unknown.</summary>
    public TaskRecord? DeleteTask(string id)
    {
        using var connection = database.Open();
        return connection.QuerySingleOrDefault<TaskRecord>("DELETE FROM tasks WHERE id = @id RETURNING *", new { id });
    }

    /// <summary>
    /// Deletes at most <paramref name="limit"/> tasks that finished before <paramref name="finishedBefore"/>,
    /// oldest first, in one short statement, and returns them so their files can go too.
    /// </summary>
    public IReadOnlyList<TaskRecord> DeleteFinishedBefore(long finishedBefore, int limit)
    {
        using var connection = database.Open();
        return connection.Query<TaskRecord>(
            """
            DELETE FROM tasks WHERE id IN (
                SELECT id FROM tasks WHERE state IN ('succeeded', 'failed') AND completed_at < @finishedBefore
                ORDER BY completed_at LIMIT @limit)
            RETURNING *
            """,
            new { finishedBefore, limit }).AsList();
    }

    /// <summary>The state of each known task among <paramref name="ids"/> (unknown ids are absent).</summary>
    public Dictionary<string, string> StatesOf(IReadOnlyCollection<string> ids)
    {
        using var connection = database.Open();
        return connection.Query<(string Id, string State)>("SELECT id, state FROM tasks WHERE id IN @ids", new { ids })
            .ToDictionary(row => row.Id, row => row.State, StringComparer.Ordinal);
    }
}

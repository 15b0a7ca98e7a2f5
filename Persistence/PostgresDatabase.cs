using System.Globalization;
using Dapper;
using Npgsql;

namespace ThumbnailApi.Persistence;

/// <summary>
/// The PostgreSQL database several instances share: its connections and its schema. The schema's
/// triggers do the announcing: a task put in the queue notifies one idle claimer (an instance with an
/// idle worker, chosen at random, as que does), and a task finished or deleted notifies
/// <see cref="DoneChannel"/>, which every instance listens to. PostgreSQL delivers a notification only
/// once its transaction commits.
/// </summary>
public sealed class PostgresDatabase(NpgsqlDataSource source)
{
    /// <summary>Every instance listens here for tasks that finished or were deleted (payload: the task id).</summary>
    public const string DoneChannel = "thumbnail_done";

    /// <summary>The key of the advisory lock migrations take, so instances starting together migrate one at a time.</summary>
    private const long MigrationLock = 7_301_001;

    /// <summary>Schema versions, in order; each is applied once, under the advisory lock, and recorded in schema_version.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE tasks (
            id                text    NOT NULL PRIMARY KEY,
            state             text    NOT NULL CHECK (state IN ('queued', 'processing', 'succeeded', 'failed')),
            file_name         text    NOT NULL,
            input_format      text    NOT NULL,
            input_bytes       bigint  NOT NULL,
            input_width       integer NOT NULL,
            input_height      integer NOT NULL,
            width             integer NOT NULL,
            height            integer NOT NULL,
            fit               text    NOT NULL,
            format            text    NOT NULL,
            attempts          integer NOT NULL DEFAULT 0,
            created_at        bigint  NOT NULL,
            started_at        bigint,
            completed_at      bigint,
            thumbnail_type    text,
            thumbnail_width   integer,
            thumbnail_height  integer,
            thumbnail_bytes   bigint,
            thumbnail_etag    text,
            error_code        text,
            error_message     text,
            idempotency_key   text,
            request_hash      text,
            content_hash      text,
            pipeline_revision integer,
            memory_bytes      bigint,
            lease_owner       text,
            lease_token       text,
            lease_expires_at  bigint
        );
        CREATE INDEX tasks_queued ON tasks (created_at, id) WHERE state = 'queued';
        CREATE INDEX tasks_leases ON tasks (lease_expires_at) WHERE state = 'processing';
        CREATE UNIQUE INDEX tasks_idempotency_key ON tasks (idempotency_key) WHERE idempotency_key IS NOT NULL;
        CREATE INDEX tasks_finished ON tasks (completed_at) WHERE state IN ('succeeded', 'failed');
        CREATE INDEX tasks_succeeded_content ON tasks (content_hash) WHERE state = 'succeeded';

        -- Instances that can take work: each listens on its own channel and says how many of its workers are idle.
        CREATE TABLE claimers (
            instance_id  text        NOT NULL PRIMARY KEY,
            channel      text        NOT NULL,
            idle_workers integer     NOT NULL,
            seen_at      timestamptz NOT NULL DEFAULT now()
        );

        -- A queued task wakes one claimer, not all of them: one instance with an idle worker, at random.
        CREATE FUNCTION thumbnail_notify_queued() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE target text;
        BEGIN
            SELECT channel INTO target FROM claimers
             WHERE idle_workers > 0 AND seen_at > now() - interval '1 minute'
             ORDER BY random() LIMIT 1;
            IF target IS NOT NULL THEN
                PERFORM pg_notify(target, NEW.id);
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER tasks_queued_notify AFTER INSERT OR UPDATE OF state ON tasks
            FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION thumbnail_notify_queued();

        -- A finished or deleted task wakes whoever waits for it, on any instance.
        CREATE FUNCTION thumbnail_notify_done() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('thumbnail_done', COALESCE(NEW.id, OLD.id));
            RETURN NULL;
        END $$;
        CREATE TRIGGER tasks_finished_notify AFTER UPDATE OF state ON tasks
            FOR EACH ROW WHEN (NEW.state IN ('succeeded', 'failed') AND OLD.state IS DISTINCT FROM NEW.state)
            EXECUTE FUNCTION thumbnail_notify_done();
        CREATE TRIGGER tasks_deleted_notify AFTER DELETE ON tasks
            FOR EACH ROW EXECUTE FUNCTION thumbnail_notify_done();
        """,
        // 2: thumbnails stored once per content: the key a task's thumbnail is under, shared by tasks with the same result.
        """
        ALTER TABLE tasks ADD COLUMN thumbnail_key text;
        CREATE INDEX tasks_thumbnail_key ON tasks (thumbnail_key) WHERE thumbnail_key IS NOT NULL;
        """,
        // 3: the JPEG/WebP quality asked for (1-100); null: the format's default.
        "ALTER TABLE tasks ADD COLUMN quality integer;",
        // 4: the retention sweeper's turn, one row with a lease (Unix ms), instead of a session advisory lock.
        """
        CREATE TABLE sweeper_turn (
            id         integer NOT NULL PRIMARY KEY CHECK (id = 1),
            holder     text,
            expires_at bigint  NOT NULL DEFAULT 0
        );
        INSERT INTO sweeper_turn (id) VALUES (1);
        """,
    ];

    static PostgresDatabase() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    public NpgsqlDataSource Source => source;

    public static int SchemaVersion => Migrations.Length;

    public async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellation = default) => await source.OpenConnectionAsync(cancellation);

    /// <summary>
    /// A transaction that the server ends, with the session, when this instance leaves it idle longer
    /// than <paramref name="idleLimit"/> between two statements (see <see cref="TransactionIdleLimits"/>);
    /// <see cref="TimeSpan.Zero"/>: never, whatever the server's own setting.
    /// </summary>
    public static async Task<NpgsqlTransaction> BeginAsync(NpgsqlConnection connection, TimeSpan idleLimit, CancellationToken cancellation = default)
    {
        var transaction = await connection.BeginTransactionAsync(cancellation);
        await connection.ExecuteAsync(new CommandDefinition(
            "SELECT set_config('idle_in_transaction_session_timeout', @limit, true)",
            new { limit = ((long)idleLimit.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) }, transaction, cancellationToken: cancellation));
        return transaction;
    }

    /// <summary>
    /// Creates or upgrades the schema in one transaction that first takes an advisory lock, so three
    /// instances starting at the same second do not race (without it, two of three concurrent
    /// CREATE TABLEs failed on pg_type's unique index).
    /// </summary>
    public async Task MigrateAsync(CancellationToken cancellation)
    {
        await using var connection = await OpenAsync(cancellation);
        await using var transaction = await BeginAsync(connection, TransactionIdleLimits.Migration, cancellation);
        await connection.ExecuteAsync("SELECT pg_advisory_xact_lock(@MigrationLock)", new { MigrationLock }, transaction);
        await connection.ExecuteAsync("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)", transaction: transaction);
        var version = await connection.ExecuteScalarAsync<int?>("SELECT max(version) FROM schema_version", transaction: transaction) ?? 0;
        for (var next = version; next < Migrations.Length; next++)
        {
            await connection.ExecuteAsync(Migrations[next], transaction: transaction);
            await connection.ExecuteAsync("INSERT INTO schema_version (version) VALUES (@version)", new { version = next + 1 }, transaction);
        }

        await transaction.CommitAsync(cancellation);
    }
}

using Dapper;
using Microsoft.Data.Sqlite;

namespace ThumbnailApi.Persistence;

/// <summary>Opens connections to the service's SQLite file and keeps its schema current.</summary>
public sealed class SqliteDatabase
{
    /// <summary>Schema versions, in order; each is applied once, in a transaction, and recorded in PRAGMA user_version.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE tasks (
            id               TEXT    NOT NULL PRIMARY KEY,
            state            TEXT    NOT NULL CHECK (state IN ('queued', 'processing', 'succeeded', 'failed')),
            file_name        TEXT    NOT NULL,
            input_format     TEXT    NOT NULL,
            input_bytes      INTEGER NOT NULL,
            input_width      INTEGER NOT NULL,
            input_height     INTEGER NOT NULL,
            width            INTEGER NOT NULL,
            height           INTEGER NOT NULL,
            fit              TEXT    NOT NULL,
            format           TEXT    NOT NULL,
            attempts         INTEGER NOT NULL DEFAULT 0,
            created_at       INTEGER NOT NULL,
            started_at       INTEGER,
            completed_at     INTEGER,
            thumbnail_type   TEXT,
            thumbnail_width  INTEGER,
            thumbnail_height INTEGER,
            thumbnail_bytes  INTEGER,
            thumbnail_etag   TEXT,
            error_code       TEXT,
            error_message    TEXT
        );
        CREATE INDEX tasks_unfinished ON tasks (created_at) WHERE state IN ('queued', 'processing');
        """,
        // 2: idempotent uploads (the client's key and a hash of what it sent) and the retention sweep's index.
        """
        ALTER TABLE tasks ADD COLUMN idempotency_key TEXT;
        ALTER TABLE tasks ADD COLUMN request_hash TEXT;
        CREATE UNIQUE INDEX tasks_idempotency_key ON tasks (idempotency_key) WHERE idempotency_key IS NOT NULL;
        CREATE INDEX tasks_finished ON tasks (completed_at) WHERE state IN ('succeeded', 'failed');
        """,
        // 3: the SHA-256 of the uploaded bytes, so identical uploads with identical options reuse a thumbnail.
        """
        ALTER TABLE tasks ADD COLUMN content_hash TEXT;
        CREATE INDEX tasks_succeeded_content ON tasks (content_hash) WHERE state = 'succeeded';
        """,
        // 4: which revision of the imaging pipeline made a thumbnail, so a changed pipeline does not reuse older ones.
        "ALTER TABLE tasks ADD COLUMN pipeline_revision INTEGER;",
        // 5: the memory the header said making the thumbnail needs, which the worker reserves before it opens the file.
        "ALTER TABLE tasks ADD COLUMN memory_bytes INTEGER;",
        // 6: leases: who holds a claim, the token that fences its writes (and names its thumbnail), until when.
        """
        ALTER TABLE tasks ADD COLUMN lease_owner TEXT;
        ALTER TABLE tasks ADD COLUMN lease_token TEXT;
        ALTER TABLE tasks ADD COLUMN lease_expires_at INTEGER;
        """,
        // 7: thumbnails stored once per content: the key a task's thumbnail is under, shared by tasks with the same result.
        """
        ALTER TABLE tasks ADD COLUMN thumbnail_key TEXT;
        CREATE INDEX tasks_thumbnail_key ON tasks (thumbnail_key) WHERE thumbnail_key IS NOT NULL;
        """,
        // 8: the JPEG/WebP quality asked for (1-100); null: the format's default.
        "ALTER TABLE tasks ADD COLUMN quality INTEGER;",
    ];

    private readonly string _connectionString;

    public SqliteDatabase(string path)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Path { get; }

    public static int SchemaVersion => Migrations.Length;

    static SqliteDatabase() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // WAL is a property of the file (set in Migrate); synchronous is per connection. NORMAL in WAL mode
        // survives a process crash; only an OS crash or power cut can lose the last commits.
        connection.Execute("PRAGMA synchronous = NORMAL;");
        return connection;
    }

    /// <summary>Creates or upgrades the schema. Safe to run at every start and from several processes.</summary>
    public void Migrate()
    {
        using var connection = Open();
        connection.Execute("PRAGMA journal_mode = WAL;");
        var version = connection.ExecuteScalar<int>("PRAGMA user_version;");
        for (var next = version; next < Migrations.Length; next++)
        {
            using var transaction = connection.BeginTransaction();
            // Re-read inside the write transaction: another process may have migrated meanwhile.
            if (connection.ExecuteScalar<int>("PRAGMA user_version;", transaction: transaction) > next)
            {
                continue;
            }

            connection.Execute(Migrations[next], transaction: transaction);
            connection.Execute($"PRAGMA user_version = {next + 1};", transaction: transaction);
            transaction.Commit();
        }
    }
}

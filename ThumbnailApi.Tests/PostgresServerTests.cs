using System.Diagnostics;
using Npgsql;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// The test run's PostgreSQL server (Support/PostgresServer): databases of their own per test, written
/// and read with Npgsql, LISTEN/NOTIFY delivered after commit and only then, and a server that is
/// stopped by its PID and leaves no folder behind.
/// </summary>
[TestFixture]
public sealed class PostgresServerTests
{
    private PostgresServer _server = null!;
    private readonly List<string> _databases = [];

    [OneTimeSetUp]
    public void StartServer() => _server = Requires.Postgres();

    [TearDown]
    public async Task DropDatabases()
    {
        foreach (var database in _databases)
        {
            await _server.DropDatabaseAsync(database);
        }

        _databases.Clear();
    }

    [Test]
    public async Task A_new_database_takes_a_table_written_and_read_with_npgsql()
    {
        var database = await CreateDatabaseAsync();
        await using var connection = await _server.OpenAsync(database);

        await ExecuteAsync(connection, "CREATE TABLE tasks (id text PRIMARY KEY, state text NOT NULL)");
        await using (var insert = new NpgsqlCommand("INSERT INTO tasks (id, state) VALUES (@id, @state)", connection))
        {
            insert.Parameters.AddWithValue("id", "a1");
            insert.Parameters.AddWithValue("state", "queued");
            Assert.That(await insert.ExecuteNonQueryAsync(), Is.EqualTo(1));
        }

        await using var select = new NpgsqlCommand("SELECT state FROM tasks WHERE id = 'a1'", connection);
        Assert.That(await select.ExecuteScalarAsync(), Is.EqualTo("queued"));
    }

    [Test]
    public async Task Two_databases_do_not_see_each_other_s_rows()
    {
        var first = await CreateDatabaseAsync();
        var second = await CreateDatabaseAsync();
        await using var one = await _server.OpenAsync(first);
        await using var other = await _server.OpenAsync(second);

        await ExecuteAsync(one, "CREATE TABLE tasks (id text PRIMARY KEY); INSERT INTO tasks VALUES ('only-in-first')");
        await ExecuteAsync(other, "CREATE TABLE tasks (id text PRIMARY KEY)");

        await using var count = new NpgsqlCommand("SELECT count(*) FROM tasks", other);
        Assert.That(await count.ExecuteScalarAsync(), Is.Zero);
        Assert.That(first, Is.Not.EqualTo(second));
    }

    [Test]
    public async Task A_dropped_database_is_gone_even_while_a_connection_to_it_is_open()
    {
        var database = await CreateDatabaseAsync();
        await using var open = await _server.OpenAsync(database);

        await _server.DropDatabaseAsync(database);
        _databases.Remove(database);

        var problem = await Assert.ThrowsAsync<PostgresException>(async () => await (await _server.OpenAsync(database)).DisposeAsync());
        Assert.That(problem!.SqlState, Is.EqualTo(PostgresErrorCodes.InvalidCatalogName), problem.Message);
    }

    [Test]
    public async Task A_notification_arrives_at_a_listening_connection_after_the_sender_commits_and_not_before()
    {
        var database = await CreateDatabaseAsync();
        await using var listener = await _server.OpenAsync(database);
        await using var sender = await _server.OpenAsync(database);
        var received = new List<(string Channel, string Payload)>();
        listener.Notification += (_, notification) => received.Add((notification.Channel, notification.Payload));
        await ExecuteAsync(listener, "LISTEN task_finished");

        await using (var transaction = await sender.BeginTransactionAsync())
        {
            await using (var notify = new NpgsqlCommand("SELECT pg_notify('task_finished', 'a1')", sender, transaction))
            {
                await notify.ExecuteNonQueryAsync();
            }

            Assert.That(await listener.WaitAsync(TimeSpan.FromMilliseconds(500)), Is.False, "nothing is delivered while the transaction is open");
            Assert.That(received, Is.Empty);
            var committed = Stopwatch.StartNew();
            await transaction.CommitAsync();

            Assert.That(await listener.WaitAsync(TimeSpan.FromSeconds(10)), Is.True, "delivered after the commit");
            TestContext.Out.WriteLine($"notification arrived {committed.Elapsed.TotalMilliseconds:F1} ms after the commit");
        }

        Assert.That(received, Is.EqualTo(new[] { ("task_finished", "a1") }));
    }

    [Test]
    public async Task A_notification_sent_in_a_transaction_that_rolls_back_never_arrives()
    {
        var database = await CreateDatabaseAsync();
        await using var listener = await _server.OpenAsync(database);
        await using var sender = await _server.OpenAsync(database);
        var received = new List<string>();
        listener.Notification += (_, notification) => received.Add(notification.Payload);
        await ExecuteAsync(listener, "LISTEN task_finished");

        await using (var transaction = await sender.BeginTransactionAsync())
        {
            await using var notify = new NpgsqlCommand("SELECT pg_notify('task_finished', 'rolled-back')", sender, transaction);
            await notify.ExecuteNonQueryAsync();
            await transaction.RollbackAsync();
        }

        await ExecuteAsync(sender, "NOTIFY task_finished, 'committed'"); // outside a transaction: committed at once

        Assert.That(await listener.WaitAsync(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(received, Is.EqualTo(new[] { "committed" }), "only the committed notification, in order");
    }

    [Test]
    public async Task The_server_listens_on_loopback_only_without_fsync_and_takes_at_least_200_connections()
    {
        await using var connection = await _server.OpenAsync("postgres");

        Assert.That(await ShowAsync(connection, "listen_addresses"), Is.EqualTo("127.0.0.1"));
        Assert.That(await ShowAsync(connection, "fsync"), Is.EqualTo("off"));
        Assert.That(int.Parse(await ShowAsync(connection, "max_connections"), System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(200));
        Assert.That(await ShowAsync(connection, "server_encoding"), Is.EqualTo("UTF8"));
    }

    [Test]
    public async Task A_server_is_stopped_by_its_pid_and_its_folder_removed()
    {
        var server = await PostgresServer.StartAsync();
        await using (var connection = await server.OpenAsync("postgres"))
        {
            Assert.That(await ShowAsync(connection, "port"), Is.EqualTo(server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        Assert.That(server.Pid, Is.Not.EqualTo(_server.Pid));
        Assert.That(server.Port, Is.Not.EqualTo(_server.Port));

        server.Stop();

        Assert.That(Directory.Exists(server.Folder), Is.False, "the cluster's folder is removed");
        Assert.That(IsRunning(server.Pid), Is.False, "the postmaster is gone");
        Assert.That(IsRunning(_server.Pid), Is.True, "the shared server is untouched");
    }

    private async Task<string> CreateDatabaseAsync()
    {
        var database = await _server.CreateDatabaseAsync();
        _databases.Add(database);
        return database;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<string> ShowAsync(NpgsqlConnection connection, string setting)
    {
        await using var command = new NpgsqlCommand($"SHOW {setting}", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited && process.ProcessName == "postgres";
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

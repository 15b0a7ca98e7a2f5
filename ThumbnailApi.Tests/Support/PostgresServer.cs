using System.Diagnostics;
using System.Text.RegularExpressions;
using Npgsql;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// A throwaway PostgreSQL server for the tests: a new cluster in a temporary folder (initdb with trust
/// authentication, no fsync), started with pg_ctl on a free loopback port, with its socket in that folder.
/// As root, it runs as the <c>postgres</c> user (initdb refuses root). One server is shared by the whole
/// test run (<see cref="Shared"/>, started on first use); each test or fixture takes a database of its own
/// (<see cref="CreateDatabaseAsync"/>), so tests never see each other's rows.
/// <para>
/// It never outlives the test run: the run's [SetUpFixture] stops it after the last test, a process-exit
/// hook stops it if the run ends otherwise, and an <see cref="OrphanWatchdog"/> stops it and removes its
/// folder if the test process is killed. Stopping is <c>pg_ctl stop -m immediate</c>, then a kill of
/// the postmaster's PID if it is still there.
/// </para>
/// </summary>
public sealed partial class PostgresServer
{
    private static readonly Lazy<PostgresServer> SharedServer = new(() => StartAsync().GetAwaiter().GetResult());

    private readonly string _bin;
    private readonly string[] _runAs;
    private int _stopped;

    private PostgresServer(string folder, string bin, string[] runAs, int port, int pid)
    {
        Folder = folder;
        _bin = bin;
        _runAs = runAs;
        Port = port;
        Pid = pid;
    }

    /// <summary>The server of this test run, started on first use. Call <see cref="Requires.Postgres"/> instead, to skip where PostgreSQL is missing.</summary>
    public static PostgresServer Shared => SharedServer.Value;

    public string Folder { get; }

    public int Port { get; }

    /// <summary>The postmaster's process id.</summary>
    public int Pid { get; }

    public string DataFolder => Path.Combine(Folder, "data");

    /// <summary>The server's log (stderr of the postmaster), for diagnostics.</summary>
    public string LogFile => Path.Combine(Folder, "server.log");

    /// <summary>
    /// An Npgsql connection string for <paramref name="database"/> as the superuser <c>postgres</c>, over TCP
    /// on 127.0.0.1. Pooled, at most 50 connections per pool (the server takes 300: room for three service
    /// instances and the test's own connections).
    /// </summary>
    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "postgres",
        Database = database,
        Pooling = true,
        MaxPoolSize = 50,
        Timeout = 15,
        IncludeErrorDetail = true,
    }.ConnectionString;

    /// <summary>An open connection to <paramref name="database"/>.</summary>
    public async Task<NpgsqlConnection> OpenAsync(string database)
    {
        var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Creates an empty database with a new name and returns the name.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"test_{Guid.NewGuid():N}";
        await using var connection = await OpenAsync("postgres");
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return name;
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, closing whatever is still connected to it.</summary>
    public async Task DropDatabaseAsync(string name)
    {
        if (!DatabaseName().IsMatch(name))
        {
            throw new ArgumentException($"\"{name}\" is not a database made by CreateDatabaseAsync.", nameof(name));
        }

        NpgsqlConnection.ClearPool(new NpgsqlConnection(ConnectionString(name)));
        await using var connection = await OpenAsync("postgres");
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>Stops the shared server if it was started (the test run's [SetUpFixture] calls this after the last test).</summary>
    public static void StopShared()
    {
        if (SharedServer.IsValueCreated)
        {
            SharedServer.Value.Stop();
        }
    }

    /// <summary>Creates a cluster in a new temporary folder and starts it on a free loopback port.</summary>
    public static async Task<PostgresServer> StartAsync()
    {
        var bin = PostgresBinaries.Find() ?? throw new InvalidOperationException("PostgreSQL is not installed (see Requires.Postgres).");
        var runAs = Environment.UserName == "root" ? new[] { "runuser", "-u", "postgres", "--" } : [];
        var folder = Directory.CreateTempSubdirectory("thumbnailapi-pg-").FullName;
        try
        {
            if (runAs.Length > 0)
            {
                await ExternalCommand.RunCheckedAsync("chown", ["postgres:postgres", folder], TimeSpan.FromSeconds(10));
            }

            var data = Path.Combine(folder, "data");
            // From here on the folder is the watchdog's marker: it ends when Stop (or the catch below) removes it.
            OrphanWatchdog.Start(folder, folder, [.. runAs, Path.Combine(bin, "pg_ctl"), "stop", "-D", data, "-m", "immediate", "-w", "-t", "10"]);
            await RunAsAsync(runAs, Path.Combine(bin, "initdb"),
                ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"], TimeSpan.FromSeconds(60));
            await File.AppendAllTextAsync(Path.Combine(data, "postgresql.conf"), $"""

                # Test server (ThumbnailApi.Tests/Support/PostgresServer.cs): loopback only, nothing kept after a crash.
                listen_addresses = '127.0.0.1'
                unix_socket_directories = '{folder}'
                fsync = off
                synchronous_commit = off
                full_page_writes = off
                shared_buffers = 32MB
                max_connections = 300

                """);

            for (var attempt = 1; ; attempt++)
            {
                var port = FreePort.OnLoopback();
                var (exitCode, output) = await RunAsAsync(runAs, Path.Combine(bin, "pg_ctl"),
                    ["start", "-D", data, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60", "-o", $"-p {port}"], TimeSpan.FromSeconds(90), check: false);
                if (exitCode == 0)
                {
                    var pid = int.Parse(File.ReadLines(Path.Combine(data, "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);
                    var server = new PostgresServer(folder, bin, runAs, port, pid);
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
                    await server.WaitUntilAcceptingAsync();
                    return server;
                }

                var log = File.Exists(Path.Combine(folder, "server.log")) ? await File.ReadAllTextAsync(Path.Combine(folder, "server.log")) : "";
                if (attempt < 3 && log.Contains("could not bind", StringComparison.Ordinal))
                {
                    continue; // another process took the port between the check and the start
                }

                throw new InvalidOperationException($"pg_ctl start failed ({exitCode}):{Environment.NewLine}{output}{Environment.NewLine}{log}");
            }
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Stops the server (<c>pg_ctl stop -m immediate</c>, then a kill of its PID if it is still there) and
    /// removes its folder. Not IDisposable on purpose: a fixture keeps the shared server in a field and
    /// must not stop it.
    /// </summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        try
        {
            RunAsAsync(_runAs, Path.Combine(_bin, "pg_ctl"), ["stop", "-D", DataFolder, "-m", "immediate", "-w", "-t", "10"], TimeSpan.FromSeconds(20), check: false)
                .GetAwaiter().GetResult();
        }
        finally
        {
            KillIfRunning(Pid);
            if (Directory.Exists(Folder))
            {
                Directory.Delete(Folder, recursive: true); // the watchdog sees the folder gone and ends
            }
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsAsync(string[] runAs, string program, string[] arguments, TimeSpan timeout, bool check = true)
    {
        var all = runAs.Length > 0 ? [.. runAs[1..], program, .. arguments] : arguments;
        var result = await ExternalCommand.RunAsync(runAs.Length > 0 ? runAs[0] : program, all, timeout);
        return check && result.ExitCode != 0
            ? throw new InvalidOperationException($"{Path.GetFileName(program)} exited with {result.ExitCode}:{Environment.NewLine}{result.Output}")
            : result;
    }

    private static void KillIfRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            if (process.ProcessName == "postgres")
            {
                process.Kill();
                process.WaitForExit(10_000);
            }
        }
        catch (Exception gone) when (gone is ArgumentException or InvalidOperationException)
        {
            // Already stopped.
        }
    }

    private async Task WaitUntilAcceptingAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                await using var connection = await OpenAsync("postgres");
                return;
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    [GeneratedRegex("^test_[0-9a-f]{32}$")]
    private static partial Regex DatabaseName();
}

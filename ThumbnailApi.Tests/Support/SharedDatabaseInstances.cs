using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// Several in-process instances of the service on one PostgreSQL database (a fresh one on the test
/// run's server) and one shared data folder, as instances behind a load balancer on one machine or a
/// shared volume. Disposing stops every instance, then drops the database and deletes the folder.
/// </summary>
public sealed class SharedDatabaseInstances : IAsyncDisposable
{
    private readonly PostgresServer _server;
    private readonly List<ThumbnailApiFactory> _instances = [];

    private SharedDatabaseInstances(PostgresServer server, string database)
    {
        _server = server;
        Database = database;
    }

    public string Database { get; }

    public TempDataFolder Folder { get; } = new();

    public string ConnectionString => _server.ConnectionString(Database);

    public static async Task<SharedDatabaseInstances> CreateAsync()
    {
        var server = Requires.Postgres();
        return new SharedDatabaseInstances(server, await server.CreateDatabaseAsync());
    }

    /// <summary>Starts one more instance on the shared database and folder, with extra settings and services.</summary>
    public ThumbnailApiFactory Start(IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var all = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["ThumbnailApi:Store"] = "postgres",
            ["ConnectionStrings:Tasks"] = ConnectionString,
        };
        var instance = new ThumbnailApiFactory(all, services, Folder);
        _ = instance.Server; // start it now, so its listener and workers run before the test goes on
        _instances.Add(instance);
        return instance;
    }

    /// <summary>Waits until this many instances have told the database that they have an idle worker (so a queued task can wake them).</summary>
    public async Task WaitUntilIdleClaimersAsync(int count)
    {
        var ready = await Eventually.TrueAsync(async () =>
        {
            await using var connection = await OpenAsync();
            return await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT count(*) FROM claimers WHERE idle_workers > 0") >= count;
        });
        Assert.That(ready, Is.True, $"{count} instance(s) with an idle worker registered in time");
    }

    /// <summary>A connection to the shared database, for assertions on what the instances stored.</summary>
    public async Task<NpgsqlConnection> OpenAsync() => await _server.OpenAsync(Database);

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }

        await _server.DropDatabaseAsync(Database);
        Folder.Dispose();
    }
}

using Microsoft.Extensions.Options;
using Npgsql;

namespace ThumbnailApi.Persistence;

/// <summary>
/// Chooses the task store from configuration (<see cref="ServiceOptions.Store"/>): SQLite in the data
/// folder (the default), or PostgreSQL at <c>ConnectionStrings:Tasks</c> with its notification
/// listener. The choice is made when the services are first resolved, after every configuration
/// source is in. The only place outside the two stores that knows which database is used.
/// </summary>
public static class StoreRegistration
{
    public const string ConnectionStringName = "Tasks";

    public static IServiceCollection AddTaskStore(this IServiceCollection services, Func<ServiceOptions, string> dataPath)
    {
        services.AddSingleton<TaskEvents>();
        services.AddSingleton<InstanceIdentity>();
        services.AddOptions<ServiceOptions>().Validate<IConfiguration>(
            (options, configuration) => options.Store != TaskStoreKind.Postgres || !string.IsNullOrWhiteSpace(configuration.GetConnectionString(ConnectionStringName)),
            $"ThumbnailApi:Store is postgres, so ConnectionStrings:{ConnectionStringName} (ConnectionStrings__{ConnectionStringName}) must hold the PostgreSQL connection string.");

        services.AddSingleton(provider => new NpgsqlDataSourceBuilder(
            provider.GetRequiredService<IConfiguration>().GetConnectionString(ConnectionStringName)).Build());
        services.AddSingleton<PostgresDatabase>();
        services.AddSingleton(provider => TransactionIdleLimits.For(provider.GetRequiredService<IOptions<ServiceOptions>>().Value));
        services.AddSingleton<PostgresTaskStore>();
        services.AddSingleton<PostgresListener>();
        services.AddSingleton(provider => new SqliteDatabase(
            Path.Combine(dataPath(provider.GetRequiredService<IOptions<ServiceOptions>>().Value), "thumbnails.db")));
        services.AddSingleton<SqliteTaskStore>();

        services.AddSingleton<ITaskStore>(provider => SharedByInstances(provider)
            ? provider.GetRequiredService<PostgresTaskStore>()
            : provider.GetRequiredService<SqliteTaskStore>());
        services.AddSingleton<IIdleWorkers>(provider => SharedByInstances(provider)
            ? provider.GetRequiredService<PostgresListener>()
            : new NoIdleWorkerReports());
        services.AddSingleton<IHostedService>(provider => SharedByInstances(provider)
            ? provider.GetRequiredService<PostgresListener>()
            : new NothingToListen());
        return services;
    }

    /// <summary>True when tasks are shared with other instances through the database (so work is claimed from it).</summary>
    public static bool SharedByInstances(IServiceProvider provider) =>
        provider.GetRequiredService<IOptions<ServiceOptions>>().Value.Store == TaskStoreKind.Postgres;

    /// <summary>One process has no notifications to listen to: the store raises its events itself.</summary>
    private sealed class NothingToListen : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

using Microsoft.Extensions.Options;
using Npgsql;

namespace ThumbnailApi.Persistence;

/// <summary>
/// Chooses the task store from configuration: SQLite in the data folder (the default), or PostgreSQL
/// at <c>ConnectionStrings:Tasks</c> with its notification listener. The only place outside the two
/// stores that knows which database is used.
/// </summary>
public static class StoreRegistration
{
    public const string ConnectionStringName = "Tasks";

    public static IServiceCollection AddTaskStore(this IServiceCollection services, IConfiguration configuration, Func<ServiceOptions, string> dataPath)
    {
        services.AddSingleton<TaskEvents>();
        services.AddSingleton<InstanceIdentity>();
        services.AddOptions<ServiceOptions>().Validate(
            options => options.Store != TaskStoreKind.Postgres || !string.IsNullOrWhiteSpace(configuration.GetConnectionString(ConnectionStringName)),
            $"ThumbnailApi:Store is postgres, so ConnectionStrings:{ConnectionStringName} (ConnectionStrings__{ConnectionStringName}) must hold the PostgreSQL connection string.");

        var kind = configuration.GetSection(ServiceOptions.Section).GetValue(nameof(ServiceOptions.Store), TaskStoreKind.Sqlite);
        if (kind == TaskStoreKind.Postgres)
        {
            services.AddSingleton(_ => new NpgsqlDataSourceBuilder(configuration.GetConnectionString(ConnectionStringName)).Build());
            services.AddSingleton<PostgresDatabase>();
            services.AddSingleton<ITaskStore, PostgresTaskStore>();
            services.AddSingleton<PostgresListener>();
            services.AddSingleton<IIdleWorkers>(provider => provider.GetRequiredService<PostgresListener>());
            services.AddHostedService(provider => provider.GetRequiredService<PostgresListener>());
        }
        else
        {
            services.AddSingleton(provider => new SqliteDatabase(
                Path.Combine(dataPath(provider.GetRequiredService<IOptions<ServiceOptions>>().Value), "thumbnails.db")));
            services.AddSingleton<ITaskStore, SqliteTaskStore>();
            services.AddSingleton<IIdleWorkers, NoIdleWorkerReports>();
        }

        return services;
    }

    /// <summary>True when tasks are shared with other instances through the database (so work is claimed from it).</summary>
    public static bool SharedByInstances(IConfiguration configuration) =>
        configuration.GetSection(ServiceOptions.Section).GetValue(nameof(ServiceOptions.Store), TaskStoreKind.Sqlite) == TaskStoreKind.Postgres;
}

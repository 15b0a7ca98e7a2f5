using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// The service in-process, on its own temporary data folder (a real SQLite file), with optional
/// settings and service replacements. Disposing it stops the host and deletes the folder.
/// </summary>
public sealed class ThumbnailApiFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;
    private readonly bool _ownsDataPath;

    public ThumbnailApiFactory(
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        TempDataFolder? dataFolder = null)
    {
        _ownsDataPath = dataFolder is null;
        DataPath = (dataFolder ?? new TempDataFolder()).Path;
        _settings = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["ThumbnailApi:DataPath"] = DataPath,
        };
        _services = services;
    }

    public string DataPath { get; }

    public string UploadsPath => System.IO.Path.Combine(DataPath, "uploads");

    public string ThumbnailsPath => System.IO.Path.Combine(DataPath, "thumbnails");

    public string DatabasePath => System.IO.Path.Combine(DataPath, "thumbnails.db");

    /// <summary>A client for the in-process server with the helpers the tests share.</summary>
    public ApiClient CreateApiClient() => new(CreateClient());

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(_settings));
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }

    /// <summary>A connection to the service's own database file, for assertions on what it stored.</summary>
    public SqliteConnection OpenDatabase()
    {
        var connection = new SqliteConnection($"Data Source={DatabasePath}");
        connection.Open();
        return connection;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && _ownsDataPath)
        {
            TempDataFolder.Delete(DataPath);
        }
    }
}

/// <summary>A fresh folder under the temp directory, deleted (database pools cleared first) on dispose.</summary>
public sealed class TempDataFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("thumbnailapi-test-").FullName;

    public void Dispose() => Delete(Path);

    public static void Delete(string path)
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }
}

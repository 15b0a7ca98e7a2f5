using Amazon.S3.Model;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ThumbnailApi.Tests.Support;

/// <summary>Where the instances of a <see cref="SharedDatabaseInstances"/> keep uploads and thumbnails.</summary>
public enum InstanceBlobs
{
    /// <summary>One data folder shared by every instance, as a shared volume.</summary>
    SharedFolder,

    /// <summary>A fresh bucket on the test run's s3rver; each instance has a data folder of its own, for scratch files only.</summary>
    S3,
}

/// <summary>
/// Several in-process instances of the service on one PostgreSQL database (a fresh one on the test
/// run's server), with their blobs in one shared data folder (as instances behind a load balancer on
/// one machine or a shared volume) or in a fresh S3 bucket, each instance then on a data folder of
/// its own (as instances on different machines). The blob helpers read either the same way, by key
/// (<c>uploads/…</c>, <c>thumbnails/…</c>). Disposing stops every instance, then drops the database
/// and deletes the folders.
/// </summary>
public sealed class SharedDatabaseInstances : IAsyncDisposable
{
    private readonly PostgresServer _server;
    private readonly S3Server? _s3;
    private readonly List<ThumbnailApiFactory> _instances = [];
    private readonly List<DataFolderWatch> _watches = [];

    private SharedDatabaseInstances(PostgresServer server, string database, S3Server? s3, string? bucket)
    {
        _server = server;
        Database = database;
        _s3 = s3;
        Bucket = bucket;
        Folder = s3 is null ? new TempDataFolder() : null;
    }

    public string Database { get; }

    public InstanceBlobs Blobs => _s3 is null ? InstanceBlobs.SharedFolder : InstanceBlobs.S3;

    /// <summary>The data folder every instance shares; null when blobs are in a bucket (each instance has its own folder).</summary>
    public TempDataFolder? Folder { get; }

    /// <summary>The bucket the instances share, with <see cref="InstanceBlobs.S3"/>.</summary>
    public string? Bucket { get; }

    public string ConnectionString => _server.ConnectionString(Database);

    /// <summary>The data folders of the instances started so far: the shared one, or one per instance.</summary>
    public IReadOnlyList<string> DataFolders => Folder is { } shared ? [shared.Path] : _instances.Select(instance => instance.DataPath).ToList();

    public static async Task<SharedDatabaseInstances> CreateAsync(InstanceBlobs blobs = InstanceBlobs.SharedFolder)
    {
        var server = Requires.Postgres();
        var s3 = blobs == InstanceBlobs.S3 ? Requires.S3() : null;
        var bucket = s3 is null ? null : await s3.CreateBucketAsync();
        return new SharedDatabaseInstances(server, await server.CreateDatabaseAsync(), s3, bucket);
    }

    /// <summary>Starts one more instance on the shared database and blobs, with extra settings and services.</summary>
    public ThumbnailApiFactory Start(IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var all = _s3 is null ? new Dictionary<string, string?>() : _s3.ServiceSettings(Bucket!);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        all["ThumbnailApi:Store"] = "postgres";
        all["ConnectionStrings:Tasks"] = ConnectionString;
        var instance = new ThumbnailApiFactory(all, services, Folder); // no shared folder: the factory makes one of its own
        if (_s3 is not null)
        {
            _watches.Add(new DataFolderWatch(instance.DataPath)); // before the instance starts, so it sees every file it writes
        }

        _ = instance.Server; // start it now, so its listener and workers run before the test goes on
        _instances.Add(instance);
        return instance;
    }

    /// <summary>
    /// With blobs in a bucket: every file an instance has created in its data folder outside its scratch
    /// folder (an upload or a thumbnail written locally), and every file now in a scratch folder. Empty
    /// once the instances are idle; always empty with a shared folder (there the files are the blobs).
    /// </summary>
    public IReadOnlyList<string> LocalFilesBesideTheBucket() =>
    [
        .. _watches.SelectMany(watch => watch.CreatedOutsideScratch),
        .. _watches.SelectMany(watch => watch.FilesInScratch()),
    ];

    /// <summary>The keys of the stored blobs under <paramref name="prefix"/> (<c>uploads/</c> or <c>thumbnails/</c>), in order.</summary>
    public async Task<IReadOnlyList<string>> BlobKeysAsync(string prefix)
    {
        if (_s3 is not null)
        {
            return await _s3.KeysAsync(Bucket!, prefix);
        }

        var folder = Path.Combine(Folder!.Path, prefix);
        return Directory.Exists(folder)
            ? Directory.GetFiles(folder).Select(file => prefix + Path.GetFileName(file)).Order(StringComparer.Ordinal).ToList()
            : [];
    }

    /// <summary>Every stored upload and thumbnail.</summary>
    public async Task<IReadOnlyList<string>> AllBlobKeysAsync() => [.. await BlobKeysAsync("uploads/"), .. await BlobKeysAsync("thumbnails/")];

    /// <summary>Stores a file's bytes under <paramref name="key"/>, as an instance would have.</summary>
    public async Task PutBlobAsync(string key, string sourceFile)
    {
        if (_s3 is null)
        {
            // Written now, as an instance writes it: File.Copy keeps the source's time, and a file that
            // looks hours old with no row yet is an orphan to the retention sweep.
            var path = Path.Combine(Folder!.Path, key);
            File.Copy(sourceFile, path);
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
            return;
        }

        using var client = _s3.Client();
        await client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, FilePath = sourceFile, UseChunkEncoding = false });
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

        foreach (var watch in _watches)
        {
            watch.Dispose();
        }

        await _server.DropDatabaseAsync(Database);
        Folder?.Dispose();
    }
}

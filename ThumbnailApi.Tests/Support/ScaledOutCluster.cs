using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// The service scaled out for real: processes of the built ThumbnailApi.dll (<see cref="ServiceProcess"/>)
/// with <c>Store=postgres</c> on one fresh database of a PostgreSQL server, their blobs in one shared
/// data folder or, given a bucket, in that S3 bucket with a data folder of its own for each instance
/// (for scratch files only: instances on different machines), each known by the instance id its
/// claims carry (the new row in <c>claimers</c> as it starts; instances start one at a time so each
/// new row is the last one's), optionally behind the committed nginx.conf (<see cref="NginxProxy"/>).
/// Every instance trusts nginx (127.0.0.1) as its proxy. The blobs are read back by key
/// (<c>uploads/…</c>, <c>thumbnails/…</c>) from wherever they are. Disposing stops nginx, kills every
/// process, drops the database and deletes the folders. Shared by the chaos test and the scale-out
/// tool, so it uses no test framework.
/// </summary>
public sealed class ScaledOutCluster : IAsyncDisposable
{
    private readonly PostgresServer _server;
    private readonly string _serviceDll;
    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly List<ServiceInstance> _instances = [];

    private ScaledOutCluster(PostgresServer server, string serviceDll, string database, IReadOnlyDictionary<string, string> settings, S3Bucket? bucket)
    {
        _server = server;
        _serviceDll = serviceDll;
        Database = database;
        _settings = settings;
        Bucket = bucket;
        if (bucket is null)
        {
            Directory.CreateDirectory(UploadsFolder);
            Directory.CreateDirectory(ThumbnailsFolder);
        }
    }

    public string Database { get; }

    /// <summary>The data folder the instances share; with a bucket, the folder that holds each instance's own (<see cref="ServiceInstance.DataFolder"/>).</summary>
    public string DataFolder { get; } = Directory.CreateTempSubdirectory("thumbnailapi-cluster-").FullName;

    /// <summary>The shared uploads folder (without a bucket).</summary>
    public string UploadsFolder => Path.Combine(DataFolder, "uploads");

    /// <summary>The shared thumbnails folder (without a bucket).</summary>
    public string ThumbnailsFolder => Path.Combine(DataFolder, "thumbnails");

    /// <summary>The bucket the instances keep their blobs in; null when they share <see cref="DataFolder"/>.</summary>
    public S3Bucket? Bucket { get; }

    /// <summary>Where the blobs are, in words, for reports.</summary>
    public string BlobsDescription => Bucket is { } bucket ? $"S3 bucket {bucket.Name}, a data folder per instance" : "one shared data folder";

    public string ConnectionString => _server.ConnectionString(Database);

    public IReadOnlyList<ServiceInstance> Instances => _instances;

    public NginxProxy? Nginx { get; private set; }

    /// <summary>
    /// A cluster with no instance yet, on a new database of <paramref name="server"/>; <paramref name="settings"/> go to
    /// every instance. With <paramref name="bucket"/>, blobs go to that bucket and no folder is shared.
    /// </summary>
    public static async Task<ScaledOutCluster> CreateAsync(
        PostgresServer server, string serviceDll, IReadOnlyDictionary<string, string>? settings = null, S3Bucket? bucket = null) =>
        new(server, serviceDll, await server.CreateDatabaseAsync(), settings ?? new Dictionary<string, string>(), bucket);

    /// <summary>Starts one more instance (with <paramref name="settings"/> on top of the cluster's) and waits until it listens and has joined the claimers.</summary>
    public async Task<ServiceInstance> StartInstanceAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var all = new Dictionary<string, string>(_settings)
        {
            ["ThumbnailApi:Store"] = "postgres",
            ["ConnectionStrings:Tasks"] = ConnectionString,
            ["ThumbnailApi:KnownProxies:0"] = "127.0.0.1",
        };
        foreach (var (key, value) in Bucket?.ServiceSettings() ?? [])
        {
            all[key] = value;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }

        var number = _instances.Count + 1;
        var folder = Bucket is null ? DataFolder : Directory.CreateDirectory(Path.Combine(DataFolder, $"instance-{number}")).FullName;
        var known = await ClaimerIdsAsync();
        var process = await ServiceProcess.StartAsync(_serviceDll, folder, all);
        var instance = new ServiceInstance(process, number, folder);
        _instances.Add(instance);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var joined = (await ClaimerIdsAsync()).Except(known).ToList();
            if (joined.Count == 1)
            {
                instance.Id = joined[0];
                return instance;
            }

            if (joined.Count > 1 || DateTime.UtcNow > deadline || process.HasExited)
            {
                throw new InvalidOperationException(
                    $"Instance {instance.Number} did not join the claimers alone (new rows: {string.Join(", ", joined)}):{Environment.NewLine}{process.RecentOutput}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>nginx with the committed configuration in front of every instance started so far.</summary>
    public async Task<NginxProxy> StartNginxAsync()
    {
        Nginx?.Dispose();
        Nginx = await NginxProxy.StartAsync(_instances.Select(instance => instance.BaseAddress));
        return Nginx;
    }

    public async Task<NpgsqlConnection> OpenAsync() => await _server.OpenAsync(Database);

    /// <summary>The keys of the stored blobs under <paramref name="prefix"/> (<c>uploads/</c> or <c>thumbnails/</c>), from the bucket or the shared folder.</summary>
    public async Task<IReadOnlyList<string>> BlobKeysAsync(string prefix)
    {
        if (Bucket is { } bucket)
        {
            return await bucket.Server.KeysAsync(bucket.Name, prefix);
        }

        var folder = Path.Combine(DataFolder, prefix);
        return Directory.Exists(folder) ? Directory.GetFiles(folder).Select(file => prefix + Path.GetFileName(file)).Order(StringComparer.Ordinal).ToList() : [];
    }

    /// <summary>A stored blob's bytes, or null when there is none.</summary>
    public async Task<byte[]?> ReadBlobAsync(string key)
    {
        if (Bucket is { } bucket)
        {
            return await bucket.Server.ReadAsync(bucket.Name, key);
        }

        var path = Path.Combine(DataFolder, key);
        return File.Exists(path) ? await File.ReadAllBytesAsync(path) : null;
    }

    public async ValueTask DisposeAsync()
    {
        Nginx?.Dispose();
        foreach (var instance in _instances)
        {
            instance.Process.Dispose();
        }

        await _server.DropDatabaseAsync(Database);
        if (Directory.Exists(DataFolder))
        {
            Directory.Delete(DataFolder, recursive: true);
        }
    }

    private async Task<HashSet<string>> ClaimerIdsAsync()
    {
        await using var connection = await OpenAsync();
        try
        {
            return (await connection.QueryAsync<string>("SELECT instance_id FROM claimers")).ToHashSet();
        }
        catch (PostgresException missing) when (missing.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return []; // no instance has migrated the schema yet
        }
    }
}

/// <summary>
/// One instance of a <see cref="ScaledOutCluster"/>: its process, the instance id its claims carry
/// (<c>lease_owner</c>), the tasks its log says it finished with SUCCESS (log lines "Task … succeeded",
/// written only after its fenced write of the result went through), and those whose claim it lost or
/// whose result it discarded because its fenced write did not go through.
/// </summary>
public sealed partial class ServiceInstance
{
    private readonly ConcurrentQueue<string> _succeeded = new();
    private readonly ConcurrentQueue<string> _gaveUp = new();

    public ServiceInstance(ServiceProcess process, int number, string dataFolder)
    {
        Process = process;
        Number = number;
        DataFolder = dataFolder;
        process.OutputLine += line =>
        {
            if (SucceededLine().Match(line) is { Success: true } succeeded)
            {
                _succeeded.Enqueue(succeeded.Groups[1].Value);
            }
            else if (GaveUpLine().Match(line) is { Success: true } gaveUp)
            {
                _gaveUp.Enqueue(gaveUp.Groups[1].Value);
            }
        };
    }

    public ServiceProcess Process { get; }

    /// <summary>1 for the first instance started, and so on.</summary>
    public int Number { get; }

    /// <summary>Its data folder: the cluster's shared one, or its own when blobs are in a bucket.</summary>
    public string DataFolder { get; }

    /// <summary>The instance id (<c>{machine}-{8 hex}</c>) it claims tasks with.</summary>
    public string Id { get; internal set; } = "";

    public Uri BaseAddress => Process.BaseAddress;

    /// <summary>Task ids this instance logged as succeeded (the log of a killed process may miss its last few).</summary>
    public IReadOnlyCollection<string> SucceededInLog => _succeeded.ToArray();

    /// <summary>Task ids whose claim this instance logged as lost, or whose result it logged as discarded (fenced out).</summary>
    public IReadOnlyCollection<string> GaveUpInLog => _gaveUp.ToArray();

    public override string ToString() => $"instance {Number} ({Id}, pid {Process.Id})";

    [GeneratedRegex(@"Task ([0-9a-f]{32}) succeeded:")]
    private static partial Regex SucceededLine();

    [GeneratedRegex(@"Task ([0-9a-f]{32})(?: was finished or removed by someone else|: this worker's claim was lost)")]
    private static partial Regex GaveUpLine();
}

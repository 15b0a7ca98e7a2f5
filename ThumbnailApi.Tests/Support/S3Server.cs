using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// A throwaway S3-compatible server for the tests: s3rver (npm, 3.7.1) on a free loopback port, its
/// objects in a temporary folder. One is shared by the test run (<see cref="Shared"/>, started on first
/// use); each test takes a bucket of its own (<see cref="CreateBucketAsync"/>). A test that stops the
/// server mid-load starts its own (<see cref="StartAsync"/>) and uses <see cref="Kill"/> and
/// <see cref="RestartAsync"/>, which keep the objects and the port.
/// <para>
/// s3rver knows one access key, <c>S3RVER</c>; it refuses other key ids but does not check the
/// signature (a wrong secret still gets 200), so a signing bug would pass here: see the README.
/// The credentials reach the service (in-process hosts and child processes alike) the standard way,
/// through AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, which the first start sets for this process.
/// The secret is a distinctive made-up value (s3rver takes any), so a test can search logs and
/// answers for it.
/// </para>
/// <para>
/// It never outlives the test run: the run's [SetUpFixture] stops the shared one, a process-exit hook
/// stops every one, and an <see cref="OrphanWatchdog"/> kills it (by the PID it keeps in its folder)
/// and removes the folder if the test process is killed.
/// </para>
/// </summary>
public sealed class S3Server
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "tst/Wq7fK2vX9mZr4Lp8Nd3Hj6Bc1Ty5Gs0EuAoPiQ";

    private static readonly Lazy<S3Server> SharedServer = new(() => StartAsync().GetAwaiter().GetResult());

    private readonly string _program;
    private Process? _process;
    private int _stopped;

    private S3Server(string program, string folder, int port)
    {
        _program = program;
        Folder = folder;
        Port = port;
    }

    /// <summary>The server of this test run, started on first use. Call <see cref="Requires.S3"/> instead, to skip where s3rver is missing.</summary>
    public static S3Server Shared => SharedServer.Value;

    public string Folder { get; }

    public int Port { get; }

    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    /// <summary>The server's process id (changes with <see cref="RestartAsync"/>).</summary>
    public int Pid => _process?.Id ?? 0;

    private string ObjectsFolder => Path.Combine(Folder, "objects");

    private string PidFile => Path.Combine(Folder, "s3rver.pid");

    /// <summary>
    /// The s3rver program: $S3RVER, else the copy .ci/run installs into the repository's .tools/s3rver
    /// folder, else one on PATH; null when there is none (or no node to run it).
    /// </summary>
    public static string? FindProgram()
    {
        var candidates = new List<string?>
        {
            Environment.GetEnvironmentVariable("S3RVER"),
            RepositoryFiles.Path(".tools/s3rver/node_modules/.bin/s3rver"),
        };
        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, "s3rver")));
        var program = candidates.FirstOrDefault(File.Exists);
        var node = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(folder => File.Exists(Path.Combine(folder, "node")));
        return node ? program : null;
    }

    /// <summary>Stops the shared server if it was started (the test run's [SetUpFixture] calls this after the last test).</summary>
    public static void StopShared()
    {
        if (SharedServer.IsValueCreated)
        {
            SharedServer.Value.Stop();
        }
    }

    /// <summary>Starts a new server, with an empty folder, on a free loopback port.</summary>
    public static async Task<S3Server> StartAsync()
    {
        var program = FindProgram() ?? throw new InvalidOperationException("s3rver is not installed (see Requires.S3).");
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", AccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", SecretKey);
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        var folder = Directory.CreateTempSubdirectory("thumbnailapi-s3-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(folder, "objects"));
            // From here on the folder is the watchdog's marker: it ends when Stop (or the catch below) removes it.
            OrphanWatchdog.Start(folder, folder, ["sh", "-c", "kill -9 \"$(cat \"$0\")\"", Path.Combine(folder, "s3rver.pid")]);
            for (var attempt = 1; ; attempt++)
            {
                var server = new S3Server(program, folder, FreePort.OnLoopback());
                try
                {
                    await server.RunAsync();
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
                    return server;
                }
                catch (InvalidOperationException) when (attempt < 3)
                {
                    server.Kill(); // most likely another process took the port between the check and the start
                }
            }
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    /// <summary>A client for the server, with its credentials and path-style addresses.</summary>
    public AmazonS3Client Client() => new(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config
    {
        ServiceURL = ServiceUrl,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        MaxErrorRetry = 0,
    });

    /// <summary>Creates an empty bucket with a new name and returns the name.</summary>
    public async Task<string> CreateBucketAsync()
    {
        var bucket = $"test-{Guid.NewGuid():N}";
        using var client = Client();
        await client.PutBucketAsync(bucket);
        return bucket;
    }

    /// <summary>The service's settings for blobs in <paramref name="bucket"/> on this server (credentials come from the environment).</summary>
    public Dictionary<string, string?> ServiceSettings(string bucket, string? prefix = null) => new()
    {
        ["ThumbnailApi:Blobs"] = "s3",
        ["ThumbnailApi:S3:ServiceUrl"] = ServiceUrl,
        ["ThumbnailApi:S3:Region"] = "us-east-1",
        ["ThumbnailApi:S3:Bucket"] = bucket,
        ["ThumbnailApi:S3:Prefix"] = prefix,
        ["ThumbnailApi:S3:ForcePathStyle"] = "true",
    };

    /// <summary>Every object key in <paramref name="bucket"/> under <paramref name="prefix"/>, in order.</summary>
    public async Task<List<string>> KeysAsync(string bucket, string prefix = "")
    {
        using var client = Client();
        var keys = new List<string>();
        var request = new Amazon.S3.Model.ListObjectsV2Request { BucketName = bucket, Prefix = prefix };
        while (true)
        {
            var page = await client.ListObjectsV2Async(request);
            keys.AddRange((page.S3Objects ?? []).Select(item => item.Key));
            if (page.IsTruncated != true)
            {
                return keys;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    /// <summary>The bytes of the object <paramref name="key"/> in <paramref name="bucket"/>, or null when there is none.</summary>
    public async Task<byte[]?> ReadAsync(string bucket, string key)
    {
        using var client = Client();
        try
        {
            using var response = await client.GetObjectAsync(bucket, key);
            using var bytes = new MemoryStream();
            await response.ResponseStream.CopyToAsync(bytes);
            return bytes.ToArray();
        }
        catch (AmazonS3Exception missing) when (missing.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Kills the server process (SIGKILL) and waits for it to be gone; its objects stay in the folder.</summary>
    public void Kill()
    {
        if (_process is { } process)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            process.WaitForExit(10_000);
            process.Dispose();
            _process = null;
        }
    }

    /// <summary>Starts the server again, after <see cref="Kill"/>, on the same port with the same objects.</summary>
    public Task RestartAsync()
    {
        DropIncompleteObjects();
        return RunAsync();
    }

    /// <summary>
    /// What a killed s3rver leaves of the puts it was in the middle of: objects without their
    /// metadata, with metadata cut short, or whose bytes do not match their recorded MD5 (it writes an
    /// object in place and its metadata after). Its listing then fails with 500 and a read gets a
    /// broken ETag. S3 itself makes an object visible only once it is whole, so a put cut off by a
    /// crash never happened: removing these makes the emulator behave that way after a restart.
    /// </summary>
    private void DropIncompleteObjects()
    {
        if (!Directory.Exists(ObjectsFolder))
        {
            return;
        }

        const string ObjectSuffix = "._S3rver_object";
        foreach (var path in Directory.EnumerateFiles(ObjectsFolder, "*" + ObjectSuffix, SearchOption.AllDirectories))
        {
            var stem = path[..^ObjectSuffix.Length];
            var metadata = stem + "._S3rver_metadata.json";
            var md5 = path + ".md5";
            bool whole;
            try
            {
                using (System.Text.Json.JsonDocument.Parse(File.ReadAllText(metadata)))
                {
                }

                whole = File.ReadAllText(md5).Trim() == Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(File.ReadAllBytes(path)));
            }
            catch (Exception problem) when (problem is IOException or System.Text.Json.JsonException)
            {
                whole = false;
            }

            if (!whole)
            {
                File.Delete(path);
                File.Delete(md5);
                File.Delete(metadata);
            }
        }
    }

    /// <summary>Kills the server and removes its folder. Not IDisposable on purpose: a fixture keeps the shared server in a field and must not stop it.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        Kill();
        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true); // the watchdog sees the folder gone and ends
        }
    }

    private async Task RunAsync()
    {
        var start = new ProcessStartInfo(_program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // s3rver 3.7.1 makes ListObjectsV2 continuation tokens with DES, which Node 20's OpenSSL 3
        // offers only through its legacy provider: without it, a listing longer than a page is a 500.
        start.Environment["NODE_OPTIONS"] = "--openssl-legacy-provider";
        foreach (var argument in new[] { "--directory", ObjectsFolder, "--address", "127.0.0.1", "--port", Port.ToString(CultureInfo.InvariantCulture), "--silent" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("s3rver did not start.");
        _process = process;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await File.WriteAllTextAsync(PidFile, process.Id.ToString(CultureInfo.InvariantCulture));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"s3rver exited with {process.ExitCode} before it listened on port {Port}.");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }
}

/// <summary>A bucket on an <see cref="S3Server"/>, and the service settings that put blobs in it (credentials come from the environment).</summary>
public sealed record S3Bucket(S3Server Server, string Name)
{
    public static async Task<S3Bucket> CreateAsync(S3Server server) => new(server, await server.CreateBucketAsync());

    /// <summary>The settings, as command-line settings for a service process (no prefix).</summary>
    public Dictionary<string, string> ServiceSettings() =>
        Server.ServiceSettings(Name).Where(pair => pair.Value is not null).ToDictionary(pair => pair.Key, pair => pair.Value!);
}

using System.Net;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// The S3 server of a <see cref="ScaledOutCluster"/> with a bucket going away mid-load (a
/// <see cref="ChaosRun"/> with <see cref="ChaosSettings.StoreOutage"/>): once half the uploads were
/// accepted, the server is SIGKILLed, each live instance's /readyz is asked once, and after the
/// outage the server is started again on the same port with the same objects; then every live
/// instance's /readyz is polled until it is healthy again. Use a server of the test's own: the
/// shared one would be down for every other user.
/// </summary>
public sealed class ChaosOutage
{
    /// <summary>When the server was gone (its process ended).</summary>
    public DateTimeOffset? Down { get; private set; }

    /// <summary>When the restart began: uploads answered before this and sent after <see cref="Down"/> saw no server.</summary>
    public DateTimeOffset? Restarting { get; private set; }

    /// <summary>When the server listened again.</summary>
    public DateTimeOffset? Up { get; private set; }

    /// <summary>What each live instance's /readyz answered while the server was down.</summary>
    public IReadOnlyList<HttpStatusCode> ReadinessWhileDown { get; private set; } = [];

    /// <summary>Seconds from the restart until every live instance's /readyz answered 200; null if one never did (within 30 s).</summary>
    public double? SecondsUntilReady { get; private set; }

    internal static async Task<ChaosOutage> RunAsync(
        ScaledOutCluster cluster, TimeSpan length, int uploads, List<string> accepted, Func<bool> givenUp, Action<string>? progress)
    {
        var server = (cluster.Bucket ?? throw new InvalidOperationException("A store outage needs a cluster whose blobs are in a bucket.")).Server;
        var outage = new ChaosOutage();
        while (!givenUp())
        {
            lock (accepted)
            {
                if (accepted.Count >= uploads / 2)
                {
                    break;
                }
            }

            await Task.Delay(50);
        }

        if (givenUp())
        {
            return outage;
        }

        server.Kill();
        outage.Down = DateTimeOffset.UtcNow;
        progress?.Invoke($"  S3 server SIGKILLed after {accepted.Count} accepted uploads, for {length.TotalSeconds:F0} s");
        outage.ReadinessWhileDown = await Task.WhenAll(LiveInstances(cluster).Select(ReadinessAsync));
        await Task.Delay(length - (DateTimeOffset.UtcNow - outage.Down.Value) is { Ticks: > 0 } rest ? rest : TimeSpan.Zero); // the outage's length: the scenario, not a wait for a result
        outage.Restarting = DateTimeOffset.UtcNow;
        await server.RestartAsync();
        outage.Up = DateTimeOffset.UtcNow;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if ((await Task.WhenAll(LiveInstances(cluster).Select(ReadinessAsync))).All(status => status == HttpStatusCode.OK))
            {
                outage.SecondsUntilReady = (DateTimeOffset.UtcNow - outage.Up.Value).TotalSeconds;
                break;
            }

            await Task.Delay(100);
        }

        progress?.Invoke($"  S3 server back {(outage.Up - outage.Down)?.TotalSeconds:F1} s after it went; every live instance ready "
                         + (outage.SecondsUntilReady is { } ready ? $"{ready:F1} s later" : "not within 30 s"));
        return outage;
    }

    /// <summary>Problems with the run's uploads around the outage: none refused, one accepted with no server, one answered too late, none accepted after it.</summary>
    public IReadOnlyList<string> Problems(IReadOnlyList<ChaosUpload> uploads, TimeSpan answerBound)
    {
        if (Down is not { } down || Restarting is not { } restarting || Up is not { } up)
        {
            return ["the S3 server was never stopped (the uploads were over first)"];
        }

        var during = uploads.Where(upload => upload.Sent > down && upload.Answered < restarting).ToList();
        return
        [
            .. during.Count(upload => upload.Problem == "storage_unavailable") == 0 ? ["no upload was refused with storage_unavailable while the server was down"] : Array.Empty<string>(),
            .. during.Where(upload => (upload.Status, upload.Problem) != (503, "storage_unavailable"))
                .Select(upload => $"upload {upload.Index} sent while the server was down: {upload.Status} {upload.Problem}"),
            .. uploads.Where(upload => upload.Sent > down && upload.Sent < up && upload.Answered - upload.Sent > answerBound)
                .Select(upload => $"upload {upload.Index} sent in the outage answered after {(upload.Answered - upload.Sent).TotalSeconds:F1} s"),
            .. uploads.Any(upload => upload.Sent > up && upload.Status == 202) ? Array.Empty<string>() : ["no upload sent after the restart was accepted"],
            .. ReadinessWhileDown.Where(status => status != HttpStatusCode.ServiceUnavailable).Select(status => $"/readyz answered {(int)status} while the server was down"),
            .. SecondsUntilReady is null ? ["an instance's /readyz was not healthy again within 30 s of the restart"] : Array.Empty<string>(),
        ];
    }

    private static IEnumerable<ServiceInstance> LiveInstances(ScaledOutCluster cluster) => cluster.Instances.Where(instance => !instance.Process.HasExited);

    private static async Task<HttpStatusCode> ReadinessAsync(ServiceInstance instance)
    {
        using var http = new HttpClient { BaseAddress = instance.BaseAddress, Timeout = TimeSpan.FromSeconds(20) };
        try
        {
            using var response = await http.GetAsync("/readyz");
            return response.StatusCode;
        }
        catch (Exception problem) when (problem is HttpRequestException or TaskCanceledException)
        {
            return 0;
        }
    }
}

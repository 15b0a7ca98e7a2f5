using System.Security.Cryptography;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// What a <see cref="ChaosRun"/> left stored, read back from wherever the cluster keeps its blobs (the
/// shared folder or the bucket): every thumbnail (with what is wrong with its bytes: a thumbnail is
/// stored under the SHA-256 of its bytes, so whole bytes hash to its name), every upload, and, with a
/// bucket, the files in the instances' own data folders, which should hold nothing but scratch files
/// in use (a SIGKILLed instance may leave its last ones).
/// </summary>
public sealed record ChaosStorage(
    string Where,
    bool InBucket,
    IReadOnlyDictionary<string, string?> Thumbnails,
    IReadOnlyList<string> Uploads,
    IReadOnlyList<string> LocalFiles,
    IReadOnlyList<string> KilledScratchFiles)
{
    private const string PartialSuffix = ".partial";

    /// <summary>Half-written files of the local store (a writer killed between its write and its rename); none in a bucket.</summary>
    public IReadOnlyList<string> Partials => Thumbnails.Keys.Where(key => key.EndsWith(PartialSuffix, StringComparison.Ordinal)).ToList();

    /// <summary>Reads the blobs of <paramref name="cluster"/>; <paramref name="killed"/> is the instance that was SIGKILLed, if one was.</summary>
    public static async Task<ChaosStorage> GatherAsync(ScaledOutCluster cluster, ServiceInstance? killed)
    {
        var thumbnails = new Dictionary<string, string?>();
        foreach (var key in await cluster.BlobKeysAsync("thumbnails/"))
        {
            thumbnails[key] = key.EndsWith(PartialSuffix, StringComparison.Ordinal) ? null : WholenessProblem(key, await cluster.ReadBlobAsync(key));
        }

        var local = new List<string>();
        var killedScratch = new List<string>();
        if (cluster.Bucket is not null)
        {
            foreach (var instance in cluster.Instances)
            {
                foreach (var file in Directory.GetFiles(instance.DataFolder, "*", SearchOption.AllDirectories))
                {
                    var name = $"instance {instance.Number}: {Path.GetRelativePath(instance.DataFolder, file)}";
                    var inScratch = Path.GetRelativePath(instance.DataFolder, file).StartsWith("scratch" + Path.DirectorySeparatorChar, StringComparison.Ordinal);
                    (instance == killed && inScratch ? killedScratch : local).Add(name);
                }
            }
        }

        return new ChaosStorage(cluster.BlobsDescription, cluster.Bucket is not null, thumbnails, await cluster.BlobKeysAsync("uploads/"), local, killedScratch);
    }

    /// <summary>Null when the bytes hash to the digest in the key (<c>thumbnails/{sha256}.{ext}</c>); otherwise what is wrong.</summary>
    private static string? WholenessProblem(string key, byte[]? bytes)
    {
        var digest = Path.GetFileNameWithoutExtension(key);
        return bytes is null ? "listed but not readable"
            : digest.Length != 64 ? "not named by its content"
            : Convert.ToHexStringLower(SHA256.HashData(bytes)) != digest ? $"{bytes.Length} bytes that do not hash to its name"
            : null;
    }
}

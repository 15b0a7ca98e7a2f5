using System.Runtime.CompilerServices;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Blobs;

/// <summary>
/// Blobs as files under the data folder (the default): key <c>uploads/x</c> is the file
/// <c>{data}/uploads/x</c>. A blob is written to a temporary name, flushed to disk and renamed, so a
/// reader never sees half of one; the decoders read the file itself.
/// </summary>
public sealed class LocalBlobStore(string root) : IBlobStore
{
    private const string PartialSuffix = ".partial";

    public string Root { get; } = Path.GetFullPath(root);

    public async Task PutAsync(string key, Stream content, long length, CancellationToken cancellation = default)
    {
        var path = PathOf(key);
        // A temporary name of this writer's own: thumbnails are stored by content, so several workers
        // put the same key at the same moment. With one shared name the second writer could not open it
        // (FileShare.None) and its clean-up removed the file the first was writing, whose rename then
        // found nothing. Each rename replaces the file whole, with the same bytes.
        var partial = $"{path}.{Guid.NewGuid():N}{PartialSuffix}";
        try
        {
            // The folders are made at start-up; a folder gone since is storage trouble, reported as such.
            await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous))
            {
                await new StreamSlice(content, length).CopyToAsync(file, cancellation);
                await file.FlushAsync(cancellation);
                file.Flush(flushToDisk: true);
            }

            File.Move(partial, path, overwrite: true);
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            TryDelete(partial);
            throw new StorageUnavailableException(problem);
        }
    }

    public Task<BlobContent?> OpenReadAsync(string key, CancellationToken cancellation = default)
    {
        try
        {
            var file = new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 0, FileOptions.Asynchronous);
            return Task.FromResult<BlobContent?>(new BlobContent(file, file.Length));
        }
        catch (Exception problem) when (problem is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<BlobContent?>(null);
        }
    }

    public Task<Stream> OpenSeekableAsync(string key, CancellationToken cancellation = default)
    {
        try
        {
            return Task.FromResult<Stream>(new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.SequentialScan));
        }
        catch (DirectoryNotFoundException problem)
        {
            throw new FileNotFoundException("No such blob.", problem);
        }
    }

    public Task<long?> LengthAsync(string key, CancellationToken cancellation = default)
    {
        var file = new FileInfo(PathOf(key));
        return Task.FromResult(file.Exists ? file.Length : (long?)null);
    }

    public Task DeleteAsync(string key, CancellationToken cancellation = default)
    {
        try
        {
            File.Delete(PathOf(key));
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing there.
        }

        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<BlobInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        var folder = Path.Combine(Root, prefix[..(prefix.LastIndexOf('/') + 1)]);
        if (!Directory.Exists(folder))
        {
            yield break;
        }

        foreach (var file in new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            cancellation.ThrowIfCancellationRequested();
            var key = Path.GetRelativePath(Root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                yield return new BlobInfo(key, file.Length, file.LastWriteTimeUtc);
            }
        }

        await Task.CompletedTask;
    }

    public string? LocalPath(string key) => PathOf(key);

    /// <summary>Writes, flushes, reads back and deletes a small file in each folder the service writes to; reports the free space.</summary>
    public async Task<BlobStoreHealth> CheckHealthAsync(CancellationToken cancellation = default)
    {
        var data = new Dictionary<string, object>();
        try
        {
            data["available_bytes"] = new DriveInfo(Root).AvailableFreeSpace;
            foreach (var folder in (string[])[BlobKeys.Uploads, BlobKeys.Thumbnails])
            {
                var probe = $"{folder}.write-probe-{Guid.NewGuid():N}";
                try
                {
                    await PutAsync(probe, new MemoryStream(new byte[512]), 512, cancellation);
                    await using var read = await OpenReadAsync(probe, cancellation) ?? throw new IOException("The probe file vanished.");
                }
                finally
                {
                    await DeleteAsync(probe, cancellation);
                }
            }

            return new BlobStoreHealth(true, "The data folder accepts writes.", data);
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            return new BlobStoreHealth(false, $"The data folder does not accept writes: {Reason(problem)}.", data);
        }
    }

    private static string Reason(Exception problem) => (problem is StorageUnavailableException { InnerException: { } inner } ? inner : problem) switch
    {
        UnauthorizedAccessException => "permission denied",
        DirectoryNotFoundException => "its uploads or thumbnails folder is missing",
        IOException { HResult: 28 or 122 } => "the disk is full",
        IOException { HResult: 30 } => "the file system is read-only",
        _ => "input/output error",
    };

    private string PathOf(string key) => BlobKeys.IsValid(key)
        ? Path.Combine(Root, key.Replace('/', Path.DirectorySeparatorChar))
        : throw new ArgumentException("Not a blob key.", nameof(key));

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            // Left for the sweep, which removes half-written files once they are old.
        }
    }
}

using System.Security.Cryptography;
using ThumbnailApi.Blobs;

namespace ThumbnailApi.Persistence;

/// <summary>
/// A task's bytes in the blob store (<see cref="IBlobStore"/>: the data folder or an S3 bucket): its
/// upload (<c>uploads/{id}</c>) until it is processed, and its thumbnail, stored once per content
/// (<c>thumbnails/{sha256}.{ext}</c>) and shared by every task whose thumbnail has the same bytes.
/// An upload is received into a local file first (the header check reads it there): with a local
/// store that file is already the blob; with a remote one it is put in the bucket before the 202 and
/// removed. Keys are built from validated ids and digests only, never from user input.
/// </summary>
public sealed class TaskFiles
{
    private static readonly string[] ThumbnailExtensions = ["png", "jpg", "webp"];

    private readonly IBlobStore _blobs;

    /// <summary>Striped locks by thumbnail key: one put of a key at a time in this process (see <see cref="SaveThumbnailAsync"/>).</summary>
    private readonly SemaphoreSlim[] _thumbnailLocks = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    /// <summary>Creates the local folders if it can; if the disk is unusable now, start-up recovery creates them later (<see cref="EnsureFolders"/>).</summary>
    public TaskFiles(IBlobStore blobs, string dataPath)
    {
        _blobs = blobs;
        DataPath = Path.GetFullPath(dataPath);
        Scratch = Path.Combine(DataPath, "scratch");
        try
        {
            EnsureFolders();
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            // Not fatal here: the service starts, answers 503 and retries recovery until storage works.
        }
    }

    public string DataPath { get; }

    /// <summary>Where uploads are received before they go to a remote store, and remote blobs are copied for decoding.</summary>
    public string Scratch { get; }

    /// <summary>The blob store everything goes to.</summary>
    public IBlobStore Blobs => _blobs;

    /// <summary>Creates the local folders: the blob folders of a local store, and the scratch folder.</summary>
    public void EnsureFolders()
    {
        Directory.CreateDirectory(DataPath);
        Directory.CreateDirectory(Scratch);
        foreach (var folder in (string[])[BlobKeys.Uploads, BlobKeys.Thumbnails])
        {
            if (_blobs.LocalPath(folder + "x") is { } path)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            }
        }
    }

    // ---- uploads ------------------------------------------------------------------------------

    /// <summary>A new, empty local file to stream the request body into (with a local store: the blob itself).</summary>
    public FileStream CreateUpload(string id) =>
        new(ReceivedPath(id), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 0, FileOptions.Asynchronous);

    /// <summary>The received upload, for the header check at upload time.</summary>
    public FileStream OpenReceivedUpload(string id) =>
        new(ReceivedPath(id), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.SequentialScan);

    /// <summary>Makes the received upload durable in the store (a remote store gets it now; the local file goes).</summary>
    public async Task StoreUploadAsync(string id, long length, CancellationToken cancellation)
    {
        if (_blobs.LocalPath(BlobKeys.Upload(id)) is not null)
        {
            return; // received in place
        }

        var received = ReceivedPath(id);
        await using (var file = new FileStream(received, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan))
        {
            await _blobs.PutAsync(BlobKeys.Upload(id), file, length, cancellation);
        }

        File.Delete(received);
    }

    /// <summary>The upload, seekable, for the decoders (a remote one is copied to a temporary file first).</summary>
    public Task<Stream> OpenUploadAsync(string id, CancellationToken cancellation) => _blobs.OpenSeekableAsync(BlobKeys.Upload(id), cancellation);

    /// <summary>Deletes the upload (and a received copy not yet stored); false when storage would not let it (the sweep removes it later).</summary>
    public async Task<bool> TryDeleteUploadAsync(string id)
    {
        try
        {
            var received = ReceivedPath(id);
            if (_blobs.LocalPath(BlobKeys.Upload(id)) is null && File.Exists(received))
            {
                File.Delete(received);
            }

            await _blobs.DeleteAsync(BlobKeys.Upload(id));
            return true;
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            return false;
        }
    }

    // ---- thumbnails ---------------------------------------------------------------------------

    /// <summary>The key a thumbnail with these bytes is stored under, and its SHA-256 (the strong ETag's source).</summary>
    public static (string Key, byte[] Sha256) ThumbnailKeyFor(byte[] bytes, string contentType)
    {
        var sha256 = SHA256.HashData(bytes);
        return (BlobKeys.Thumbnail(Convert.ToHexStringLower(sha256), ExtensionFor(contentType)), sha256);
    }

    /// <summary>
    /// Stores a thumbnail's bytes under its content key, unless a blob of their length is there already:
    /// the key is the bytes' SHA-256, so it holds these very bytes, and it cannot go while the caller's
    /// row refers to it (see the worker). Saves a write per reused result and does not rewrite an object
    /// others may be reading. One of another length (cut short by a server that does not replace objects
    /// atomically and died mid-write) is written again. Workers of this process that finish identical
    /// tasks at once take turns per key (a striped lock), so the first stores the blob and the others
    /// find it: one write, and no read of a half-replaced object on such a server.
    /// </summary>
    public async Task SaveThumbnailAsync(string key, byte[] bytes, CancellationToken cancellation = default)
    {
        var turn = _thumbnailLocks[(StringComparer.Ordinal.GetHashCode(key) & int.MaxValue) % _thumbnailLocks.Length];
        await turn.WaitAsync(cancellation);
        try
        {
            if (await _blobs.LengthAsync(key, cancellation) != bytes.Length)
            {
                await _blobs.PutAsync(key, new MemoryStream(bytes, writable: false), bytes.Length, cancellation);
            }
        }
        finally
        {
            turn.Release();
        }
    }

    public Task<BlobContent?> OpenThumbnailAsync(string key, CancellationToken cancellation = default) => _blobs.OpenReadAsync(key, cancellation);

    /// <summary>A stored thumbnail's bytes, or null when it is gone.</summary>
    public async Task<byte[]?> ReadThumbnailAsync(string key, CancellationToken cancellation = default)
    {
        await using var content = await _blobs.OpenReadAsync(key, cancellation);
        if (content is null)
        {
            return null;
        }

        using var copy = new MemoryStream();
        await content.Stream.CopyToAsync(copy, cancellation);
        return copy.ToArray();
    }

    /// <summary>Deletes a stored thumbnail: the store calls this only once no task refers to it.</summary>
    public Task DeleteThumbnailAsync(string key) => _blobs.DeleteAsync(key);

    /// <summary>
    /// The key of a finished task's thumbnail: its content key, or for a task finished before thumbnails
    /// were stored by content, the file named after it (<c>{id}.{lease token}.{ext}</c> or <c>{id}.{ext}</c>).
    /// </summary>
    public static string? ThumbnailKeyOf(TaskRecord task) => task switch
    {
        { ThumbnailKey: { } key } => key,
        { ThumbnailType: { } type, LeaseToken: { } token } => $"{BlobKeys.Thumbnails}{task.Id}.{token}.{ExtensionFor(type)}",
        { ThumbnailType: { } type } => $"{BlobKeys.Thumbnails}{task.Id}.{ExtensionFor(type)}",
        _ => null,
    };

    /// <summary>Deletes the files a task had before thumbnails were stored by content (only that task used them).</summary>
    public async Task DeleteOldStyleThumbnailsAsync(TaskRecord task)
    {
        if (task.ThumbnailKey is not null)
        {
            return;
        }

        foreach (var extension in ThumbnailExtensions)
        {
            await _blobs.DeleteAsync($"{BlobKeys.Thumbnails}{task.Id}.{extension}");
            if (task.LeaseToken is { } token)
            {
                await _blobs.DeleteAsync($"{BlobKeys.Thumbnails}{task.Id}.{token}.{extension}");
            }
        }
    }

    /// <summary>Bytes free for the service on the data folder's file system (uploads are received there).</summary>
    public long AvailableBytes() => new DriveInfo(DataPath).AvailableFreeSpace;

    public static string ExtensionFor(string contentType) => contentType switch
    {
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        _ => "png",
    };

    private string ReceivedPath(string id) =>
        _blobs.LocalPath(BlobKeys.Upload(id)) ?? Path.Combine(Scratch, $"{BlobKeys.Upload(id)[BlobKeys.Uploads.Length..]}.upload");
}

namespace ThumbnailApi.Blobs;

/// <summary>
/// Every stored byte of the service (uploads waiting for a worker, thumbnails) behind one small
/// contract, by key (<c>uploads/{task id}</c>, <c>thumbnails/{sha256}.{ext}</c>): the local data
/// folder (the default) or S3-compatible object storage, chosen by <c>ThumbnailApi:Blobs</c>. A store
/// that cannot be used right now (disk full, server down, access denied) throws
/// <see cref="Persistence.StorageUnavailableException"/>, whatever its own error was.
/// </summary>
public interface IBlobStore
{
    /// <summary>Stores <paramref name="length"/> bytes of <paramref name="content"/>, from its position (a shorter stream is an error), under <paramref name="key"/>, replacing what was there. Durable when it returns.</summary>
    Task PutAsync(string key, Stream content, long length, CancellationToken cancellation = default);

    /// <summary>The blob as a stream to copy out (to an HTTP response), not necessarily seekable; null when there is none.</summary>
    Task<BlobContent?> OpenReadAsync(string key, CancellationToken cancellation = default);

    /// <summary>
    /// The blob as a seekable stream for the decoders: the file itself when it is local, else a copy in a
    /// temporary file that goes with the stream. Throws <see cref="FileNotFoundException"/> when there is none.
    /// </summary>
    Task<Stream> OpenSeekableAsync(string key, CancellationToken cancellation = default);

    /// <summary>The length of the blob stored under <paramref name="key"/>, or null when there is none.</summary>
    Task<long?> LengthAsync(string key, CancellationToken cancellation = default);

    /// <summary>Removes the blob; nothing happens when there is none.</summary>
    Task DeleteAsync(string key, CancellationToken cancellation = default);

    /// <summary>Every blob whose key starts with <paramref name="prefix"/>, with when it was last written, a page at a time.</summary>
    IAsyncEnumerable<BlobInfo> ListAsync(string prefix, CancellationToken cancellation = default);

    /// <summary>
    /// The file a blob is kept in, when this store keeps blobs as local files (an upload is then
    /// written straight into place); null for a remote store.
    /// </summary>
    string? LocalPath(string key);

    /// <summary>Whether the store can be read and written now: a small blob is written, read back and removed.</summary>
    Task<BlobStoreHealth> CheckHealthAsync(CancellationToken cancellation = default);
}

/// <summary>A blob's bytes as a stream, and its length.</summary>
public sealed record BlobContent(Stream Stream, long Length) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Stream.DisposeAsync();
}

/// <summary>A listed blob: its key (without the store's prefix), size and last write.</summary>
public sealed record BlobInfo(string Key, long Size, DateTimeOffset LastModified);

/// <summary>What the store says of itself for readiness; the description names no path, bucket address or credential.</summary>
public sealed record BlobStoreHealth(bool Healthy, string Description, IReadOnlyDictionary<string, object> Data);

using System.Security.Cryptography;

namespace ThumbnailApi.Endpoints;

/// <summary>
/// Computes the SHA-256 of the image while it is written to disk (a pass-through stream around the
/// upload file). It keys idempotent retries and the reuse of identical uploads.
/// </summary>
public sealed class UploadDigest : IDisposable
{
    private readonly SHA256 _sha256 = SHA256.Create();

    /// <summary>Wraps the upload file; disposing the returned stream completes the hash and closes the file.</summary>
    public Stream Wrap(Stream file) => new CryptoStream(file, _sha256, CryptoStreamMode.Write);

    /// <summary>The hash of everything written, once the wrapped stream is disposed.</summary>
    public byte[] Hash => _sha256.Hash ?? throw new InvalidOperationException("The upload stream was not closed yet.");

    public void Dispose() => _sha256.Dispose();
}

using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Blobs;

/// <summary>
/// Blobs as objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2), under an optional key
/// prefix, through AWSSDK.S3. Puts send a plain body with its length (no aws-chunked framing, which
/// some S3-compatible servers store inside the object); the decoders get a seekable copy in a
/// temporary file that is deleted when they close it. Credentials come from the SDK's standard chain
/// (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, an instance role) and are never logged.
/// </summary>
public sealed class S3BlobStore(IAmazonS3 s3, S3Options options, string scratchFolder) : IBlobStore
{
    private readonly string _bucket = options.Bucket;
    private readonly string _prefix = options.Prefix ?? "";

    public async Task PutAsync(string key, Stream content, long length, CancellationToken cancellation = default)
    {
        var request = new PutObjectRequest
        {
            BucketName = _bucket,
            Key = ObjectKey(key),
            InputStream = new StreamSlice(content, length),
            AutoCloseStream = false,
            UseChunkEncoding = false,
            DisablePayloadSigning = false,
        };
        request.Headers.ContentLength = length;
        await Guard(() => s3.PutObjectAsync(request, cancellation), cancellation);
    }

    public async Task<BlobContent?> OpenReadAsync(string key, CancellationToken cancellation = default)
    {
        try
        {
            var response = await Guard(() => s3.GetObjectAsync(_bucket, ObjectKey(key), cancellation), cancellation);
            return new BlobContent(new ResponseStream(response), response.ContentLength);
        }
        catch (StorageUnavailableException problem) when (IsNotFound(problem.InnerException))
        {
            return null;
        }
    }

    public async Task<Stream> OpenSeekableAsync(string key, CancellationToken cancellation = default)
    {
        await using var content = await OpenReadAsync(key, cancellation) ?? throw new FileNotFoundException("No such blob.");
        Directory.CreateDirectory(scratchFolder);
        var copy = new FileStream(Path.Combine(scratchFolder, $"{Guid.NewGuid():N}.download"), FileMode.CreateNew, FileAccess.ReadWrite,
            FileShare.None, 64 * 1024, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        try
        {
            await Guard(async () =>
            {
                await content.Stream.CopyToAsync(copy, cancellation);
                return 0;
            }, cancellation);
            copy.Position = 0;
            return copy;
        }
        catch
        {
            await copy.DisposeAsync();
            throw;
        }
    }

    /// <summary>A HEAD request.</summary>
    public async Task<long?> LengthAsync(string key, CancellationToken cancellation = default)
    {
        try
        {
            var metadata = await Guard(() => s3.GetObjectMetadataAsync(_bucket, ObjectKey(key), cancellation), cancellation);
            return metadata.ContentLength;
        }
        catch (StorageUnavailableException problem) when (IsNotFound(problem.InnerException))
        {
            return null;
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellation = default)
    {
        try
        {
            await Guard(() => s3.DeleteObjectAsync(_bucket, ObjectKey(key), cancellation), cancellation);
        }
        catch (StorageUnavailableException problem) when (IsNotFound(problem.InnerException))
        {
            // Nothing there.
        }
    }

    public async IAsyncEnumerable<BlobInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = ObjectKey(prefix), MaxKeys = 1000 };
        while (true)
        {
            var page = await Guard(() => s3.ListObjectsV2Async(request, cancellation), cancellation);
            foreach (var item in page.S3Objects ?? [])
            {
                yield return new BlobInfo(item.Key[_prefix.Length..], item.Size ?? 0, item.LastModified ?? DateTime.UtcNow);
            }

            if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    public string? LocalPath(string key) => null;

    /// <summary>Writes, reads back and deletes a small object: the bucket is reachable, and the credentials may write.</summary>
    public async Task<BlobStoreHealth> CheckHealthAsync(CancellationToken cancellation = default)
    {
        var data = new Dictionary<string, object> { ["bucket"] = _bucket };
        var probe = $"probes/{Guid.NewGuid():N}";
        try
        {
            await PutAsync(probe, new MemoryStream(new byte[16]), 16, cancellation);
            await using (var read = await OpenReadAsync(probe, cancellation))
            {
                if (read is null)
                {
                    return new BlobStoreHealth(false, "The bucket took a write but does not return it.", data);
                }
            }

            await DeleteAsync(probe, cancellation);
            return new BlobStoreHealth(true, "The bucket accepts writes.", data);
        }
        catch (StorageUnavailableException problem)
        {
            return new BlobStoreHealth(false, $"The bucket cannot be used: {Reason(problem.InnerException)}.", data);
        }
    }

    private string ObjectKey(string key) => BlobKeys.IsValid(key) || key is BlobKeys.Uploads or BlobKeys.Thumbnails
        ? _prefix + key
        : throw new ArgumentException("Not a blob key.", nameof(key));

    private static bool IsNotFound(Exception? problem) =>
        problem is AmazonS3Exception { StatusCode: HttpStatusCode.NotFound } or AmazonS3Exception { ErrorCode: "NoSuchKey" };

    private static string Reason(Exception? problem) => problem switch
    {
        AmazonS3Exception { ErrorCode: "NoSuchBucket" } => "the bucket does not exist",
        AmazonS3Exception { StatusCode: HttpStatusCode.Forbidden } => "access denied (check the credentials and the bucket policy)",
        AmazonS3Exception s3 => $"the server answered {(int)s3.StatusCode} {s3.ErrorCode}",
        _ => "the server does not answer",
    };

    /// <summary>
    /// Every failure of the SDK (no answer, a refused connection, a 5xx, denied access, a missing
    /// bucket) is storage trouble: the request is answered 503 and the work waits. A missing key is
    /// told apart by the callers. A cancellation the caller asked for is not: it stays an
    /// OperationCanceledException, so a worker whose lease was lost while it read its upload says so
    /// (and drops the task) instead of taking it for an outage and waiting to release a claim it no
    /// longer has; only the SDK's own time-out (a TaskCanceledException nobody asked for) is trouble.
    /// </summary>
    private static async Task<T> Guard<T>(Func<Task<T>> call, CancellationToken cancellation)
    {
        try
        {
            return await call();
        }
        catch (Exception problem) when ((problem is AmazonServiceException or AmazonClientException or HttpRequestException
                                             or IOException or TaskCanceledException or TimeoutException)
                                         && !cancellation.IsCancellationRequested)
        {
            throw new StorageUnavailableException(problem);
        }
    }

    /// <summary>The object's body; disposing it disposes the response (and frees its connection).</summary>
    private sealed class ResponseStream(GetObjectResponse response) : Stream
    {
        private readonly Stream _body = response.ResponseStream;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => response.ContentLength;

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        // The body can fail half-way too (a dropped connection, or the SDK's check of the object's
        // checksum at its end: "Expected hash not equal to calculated hash"). Like every other failure
        // of the store it is storage trouble, so the worker puts the task back instead of failing it
        // with internal_error (seen with s3rver, which rewrites an object in place while it is read).
        public override int Read(byte[] buffer, int offset, int count)
        {
            try
            {
                return _body.Read(buffer, offset, count);
            }
            catch (Exception problem) when (IsSdkFailure(problem))
            {
                throw new StorageUnavailableException(problem);
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await _body.ReadAsync(buffer, cancellationToken);
            }
            catch (Exception problem) when (IsSdkFailure(problem))
            {
                throw new StorageUnavailableException(problem);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        /// <summary>An IOException is storage trouble already (<see cref="StorageUnavailableException.Matches"/>); a cancelled read stays a cancellation.</summary>
        private static bool IsSdkFailure(Exception problem) => problem is AmazonServiceException or AmazonClientException or HttpRequestException;

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                response.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

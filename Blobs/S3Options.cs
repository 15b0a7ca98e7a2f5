namespace ThumbnailApi.Blobs;

/// <summary>The S3-compatible bucket, from the ThumbnailApi:S3 section (ThumbnailApi__S3__* variables). Validated at start-up when Blobs is s3.</summary>
public sealed class S3Options
{
    /// <summary>The server's address for S3-compatible servers (MinIO, Ceph, R2); empty for AWS itself.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>The region requests are signed for (AWS: the bucket's region; MinIO: us-east-1 unless configured otherwise).</summary>
    public string Region { get; set; } = "us-east-1";

    public string Bucket { get; set; } = "";

    /// <summary>Put before every key (e.g. "thumbnailapi/"), so several services can share a bucket.</summary>
    public string? Prefix { get; set; }

    /// <summary>Path-style addresses (http://server/bucket/key), which MinIO and most self-hosted servers need.</summary>
    public bool ForcePathStyle { get; set; }
}

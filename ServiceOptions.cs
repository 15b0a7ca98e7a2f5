using System.ComponentModel.DataAnnotations;
using ThumbnailApi.Imaging;
using ThumbnailApi.Operations;

namespace ThumbnailApi;

/// <summary>Everything an operator can set, from the "ThumbnailApi" section or ThumbnailApi__* variables. Validated at start-up.</summary>
public sealed class ServiceOptions
{
    public const string Section = "ThumbnailApi";

    /// <summary>
    /// Where task rows live: <c>sqlite</c> (the default: a file in <see cref="DataPath"/>, one process) or
    /// <c>postgres</c> (a PostgreSQL database at ConnectionStrings:Tasks, shared by several instances).
    /// </summary>
    public TaskStoreKind Store { get; set; } = TaskStoreKind.Sqlite;

    /// <summary>
    /// Where uploads and thumbnails are stored: <c>local</c> (the default: the data folder) or <c>s3</c>
    /// (an S3-compatible bucket, ThumbnailApi:S3:*), which instances on different machines share.
    /// </summary>
    public Blobs.BlobStoreKind Blobs { get; set; } = ThumbnailApi.Blobs.BlobStoreKind.Local;

    /// <summary>
    /// Seconds a worker's claim on a task holds without a heartbeat (heartbeats come every third of
    /// it). When an instance dies, its tasks go back to the queue this long after its last heartbeat.
    /// </summary>
    [Range(3, 3600)]
    public int LeaseSeconds { get; set; } = 15;

    /// <summary>Folder for the SQLite database, uploads waiting to be processed, and thumbnails. Relative to the folder the service is started from.</summary>
    [Required(AllowEmptyStrings = false)]
    public string DataPath { get; set; } = "data";

    /// <summary>Largest accepted upload, in bytes (default 50 MiB).</summary>
    [Range(1, 2L * 1024 * 1024 * 1024)]
    public long MaxUploadBytes { get; set; } = 50 * 1024 * 1024;

    /// <summary>Most pixels decoded, from the header (default 100 megapixels; a JPEG counts at its DCT-scaled size, see ImagingLimits.MaxPixels).</summary>
    [Range(1, 1_000_000_000)]
    public long MaxPixels { get; set; } = 100_000_000;

    /// <summary>Most frames or pages an uploaded file may declare.</summary>
    [Range(1, 100_000)]
    public int MaxFrames { get; set; } = 1000;

    /// <summary>Largest frames × width × height of a file, all frames or pages together (default 2 gigapixels).</summary>
    [Range(1, 1_000_000_000_000)]
    public long MaxTotalPixels { get; set; } = 2_000_000_000;

    /// <summary>Most scans a JPEG may have; counted before decoding (a progressive JPEG usually has about ten).</summary>
    [Range(1, 10_000)]
    public int MaxJpegScans { get; set; } = 50;

    /// <summary>
    /// Memory all decoding may use at once (default 512 MiB, for a service in a 1 GB container): each
    /// task reserves what its header says it needs before decoding and waits while the budget is in
    /// use; an image that alone needs more is refused at upload with 422 image_too_large.
    /// </summary>
    [Range(16L * 1024 * 1024, 1L << 40)]
    public long MaxDecodeMemoryBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Tasks that may wait for a worker before uploads are refused with 503.</summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 500;

    /// <summary>Thumbnails made at the same time (default: one per processor).</summary>
    [Range(1, 256)]
    public int WorkerCount { get; set; } = Environment.ProcessorCount;

    /// <summary>Processing attempts before a task that keeps dying with the process is failed.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Deadline for one task's processing, in seconds.</summary>
    [Range(1, 3600)]
    public int ProcessingTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Uploads one client address may make per minute (also the burst it may send at once); 0 turns
    /// the limit off. The default lets one client send a burst of several times the queue capacity
    /// (and retry the 503s), so the queue's back-pressure, not this limit, answers a burst.
    /// </summary>
    [Range(0, 1_000_000)]
    public int UploadsPerMinutePerClient { get; set; } = 6000;

    /// <summary>Seconds a client is told to wait (Retry-After) when the queue is full or storage is unavailable; also the pause before storage is tried again.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 5;

    /// <summary>Status requests that may wait (<c>?wait=N</c>) at the same time; more are answered at once. 0 turns waiting off.</summary>
    [Range(0, 1_000_000)]
    public int LongPollMaxWaiters { get; set; } = 10_000;

    /// <summary>Days a finished task and its thumbnail are kept; 0 keeps them forever.</summary>
    [Range(0, 36_500)]
    public int RetentionDays { get; set; } = 7;

    /// <summary>Minutes between two retention sweeps (expired tasks and orphan files).</summary>
    [Range(1, 10_080)]
    public int RetentionSweepMinutes { get; set; } = 10;

    // Guards of the upload's disk and connections: a stalled body, too many uploads at once, a disk nearly full.

    /// <summary>
    /// Seconds an upload's body may send nothing (no byte of part headers, fields or image) before the
    /// connection is closed and the partial upload file removed. The clock restarts on every chunk received.
    /// </summary>
    [Range(1, 3600)]
    public int UploadIdleTimeoutSeconds { get; set; } = 30;

    /// <summary>Uploads one client address may have in progress at once; beyond it, 429 rate_limited before the body is read. 0 turns the cap off.</summary>
    [Range(0, 100_000)]
    public int MaxConcurrentUploadsPerClient { get; set; } = 8;

    /// <summary>Uploads in progress at once from all clients; beyond it, 503 too_many_uploads before the body is read. 0 turns the cap off.</summary>
    [Range(0, 1_000_000)]
    public int MaxConcurrentUploads { get; set; } = 64;

    /// <summary>
    /// Bytes to keep free in the data folder's file system (default 1 GiB): while an upload of its declared
    /// size would leave less, uploads are refused with 503 storage_unavailable before the body is read. 0 turns the check off.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long MinFreeDiskBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>
    /// Whether a task whose bytes and options match an earlier successful task reuses that thumbnail
    /// instead of decoding again. Turn off if clients must not learn, from timing, that someone else
    /// uploaded the same file.
    /// </summary>
    public bool ReuseIdenticalUploads { get; set; } = true;

    // Reverse proxies (Operations/ForwardedHeadersSetup): whose X-Forwarded-For/Proto/Host are believed.

    /// <summary>
    /// Addresses of reverse proxies whose X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host are
    /// applied (ThumbnailApi__KnownProxies__0=10.0.0.5). Default: none, and the headers are ignored from everyone.
    /// </summary>
    [IPAddressList]
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks (CIDR) of trusted reverse proxies, as <see cref="KnownProxies"/> (ThumbnailApi__KnownNetworks__0=172.16.0.0/12).</summary>
    [IPNetworkList]
    public List<string> KnownNetworks { get; set; } = [];

    public ImagingLimits ImagingLimits => new()
    {
        MaxPixels = MaxPixels, MaxFrames = MaxFrames, MaxTotalPixels = MaxTotalPixels, MaxJpegScans = MaxJpegScans,
        MaxDecodeMemoryBytes = MaxDecodeMemoryBytes,
    };

    public TimeSpan ProcessingTimeout => TimeSpan.FromSeconds(ProcessingTimeoutSeconds);

    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);
}

/// <summary>The databases task rows can live in.</summary>
public enum TaskStoreKind
{
    /// <summary>A SQLite file in the data folder: one process, nothing to set up.</summary>
    Sqlite,

    /// <summary>A PostgreSQL database shared by several instances (ConnectionStrings:Tasks).</summary>
    Postgres,
}

namespace ThumbnailApi.Persistence;

/// <summary>One row of the <c>tasks</c> table. Times are Unix milliseconds.</summary>
public sealed class TaskRecord
{
    public string Id { get; init; } = "";
    public string State { get; init; } = TaskState.Queued;
    public string FileName { get; init; } = "";
    public string InputFormat { get; init; } = "";
    public long InputBytes { get; init; }
    public int InputWidth { get; init; }
    public int InputHeight { get; init; }
    public int Width { get; init; }
    public int Height { get; init; }
    public string Fit { get; init; } = "";
    public string Format { get; init; } = "";

    /// <summary>The JPEG/WebP quality asked for (1–100); null: the output format's default.</summary>
    public int? Quality { get; init; }
    public int Attempts { get; init; }
    public long CreatedAt { get; init; }
    public long? StartedAt { get; init; }
    public long? CompletedAt { get; init; }
    public string? ThumbnailType { get; init; }
    public int? ThumbnailWidth { get; init; }
    public int? ThumbnailHeight { get; init; }
    public long? ThumbnailBytes { get; init; }
    public string? ThumbnailEtag { get; init; }

    /// <summary>The blob key of the thumbnail (<c>thumbnails/{sha256}.{ext}</c>), shared by every task with the same result.</summary>
    public string? ThumbnailKey { get; init; }
    public string? ErrorCode { get; init; }
    public string? ErrorMessage { get; init; }

    /// <summary>SHA-256 of the uploaded bytes (lowercase hex).</summary>
    public string? ContentHash { get; init; }
    public string? IdempotencyKey { get; init; }

    /// <summary>Memory making the thumbnail needs at most, from the header at upload; null for tasks from before it was recorded.</summary>
    public long? MemoryBytes { get; init; }

    /// <summary>The instance holding the current claim (or the last one, once finished).</summary>
    public string? LeaseOwner { get; init; }

    /// <summary>The current (or last) claim's token: fences its writes and names its thumbnail file.</summary>
    public string? LeaseToken { get; init; }

    /// <summary>Until when the claim holds without a heartbeat (Unix ms); null when not claimed.</summary>
    public long? LeaseExpiresAt { get; init; }
    public string? RequestHash { get; init; }

    public bool IsFinished => State is TaskState.Succeeded or TaskState.Failed;
}

/// <summary>What the worker stores about a finished thumbnail.</summary>
/// <summary>A thumbnail written for a task; <paramref name="PipelineRevision"/> is the imaging pipeline's revision that made it.</summary>
public sealed record StoredThumbnail(string ContentType, int Width, int Height, long Bytes, string ETag, int PipelineRevision);

/// <summary>The result of start-up recovery: tasks to run again, and tasks given up on.</summary>
public sealed record RecoveredTasks(IReadOnlyList<string> Requeued, IReadOnlyList<string> GivenUp);

using ThumbnailApi.Blobs;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Processing;

/// <summary>
/// One retention pass: removes finished tasks older than the retention age with their uploads and
/// the thumbnails no other task shares, then blobs no task needs (left by a crash, by a claim that
/// lost its lease, or by a thumbnail whose last user went while another task was storing the same
/// bytes). Works in batches of <see cref="BatchSize"/>, each one short transaction, and lists the
/// store a page at a time, so uploads and workers never wait long. With several instances, one
/// sweeps at a time (the store hands out the turn).
/// </summary>
public sealed class RetentionSweep(ITaskStore store, TaskFiles files, RetentionPolicy policy, TimeProvider clock)
{
    public const int BatchSize = 100;

    /// <summary>
    /// A blob must be untouched this long before it counts as an orphan. An upload being received is
    /// written to at least every 30 s (the idle-upload rule), another instance stores its upload before
    /// its row, and a worker stores a thumbnail right after it refers to it: none is ever taken for one.
    /// </summary>
    public static readonly TimeSpan OrphanGracePeriod = TimeSpan.FromHours(1);

    /// <summary>A half-written local file lives for the milliseconds of one write: older than this, its writer is gone.</summary>
    public static readonly TimeSpan PartialGracePeriod = TimeSpan.FromMinutes(1);

    private const string PartialSuffix = ".partial";

    /// <summary>The pass, or nothing (null) when another instance is sweeping now.</summary>
    public async Task<SweepResult?> RunAsync(CancellationToken cancellation)
    {
        await using var turn = await store.TryTakeSweeperTurnAsync();
        if (turn is null)
        {
            return null;
        }

        var expired = await DeleteExpiredTasksAsync(cancellation);
        var orphans = await DeleteOrphanUploadsAsync(cancellation) + await DeleteOrphanThumbnailsAsync(OrphanGracePeriod, cancellation);
        return new SweepResult(expired, orphans);
    }

    /// <summary>
    /// Files in this instance's scratch folder untouched for <see cref="OrphanGracePeriod"/>: left by a
    /// process killed while it received an upload or had a blob copied out for decoding (a live one
    /// writes an upload at least every 30 s and deletes a copy when its task ends). Every instance
    /// clears its own, outside the sweeper's turn; by age, so a shared folder is safe too.
    /// </summary>
    public int DeleteStaleScratchFiles()
    {
        var untouchedSince = (clock.GetUtcNow() - OrphanGracePeriod).UtcDateTime;
        var removed = 0;
        foreach (var file in new DirectoryInfo(files.Scratch).EnumerateFiles())
        {
            if (file.LastWriteTimeUtc < untouchedSince)
            {
                file.Delete();
                removed++;
            }
        }

        return removed;
    }

    /// <summary>At start-up: half-written thumbnails whose writer is gone (a crash mid-write), without waiting for the sweep.</summary>
    public Task<int> DeleteAbandonedPartialThumbnailsAsync() => DeletePartialsAsync(CancellationToken.None);

    private async Task<int> DeleteExpiredTasksAsync(CancellationToken cancellation)
    {
        if (policy.Age is not { } age)
        {
            return 0;
        }

        var finishedBefore = (clock.GetUtcNow() - age).ToUnixTimeMilliseconds();
        var removed = 0;
        while (!cancellation.IsCancellationRequested)
        {
            var batch = await store.DeleteFinishedBeforeAsync(finishedBefore, BatchSize, files.DeleteThumbnailAsync);
            foreach (var task in batch)
            {
                await files.TryDeleteUploadAsync(task.Id);
                await files.DeleteOldStyleThumbnailsAsync(task);
            }

            removed += batch.Count;
            if (batch.Count < BatchSize)
            {
                break;
            }
        }

        return removed;
    }

    /// <summary>An upload is needed only by an unfinished task (the worker deletes it after finishing).</summary>
    private async Task<int> DeleteOrphanUploadsAsync(CancellationToken cancellation)
    {
        var removed = 0;
        await foreach (var batch in Untouched(BlobKeys.Uploads, OrphanGracePeriod, cancellation).Chunk(BatchSize).WithCancellation(cancellation))
        {
            var ids = batch.Select(blob => BlobKeys.TaskOfUpload(blob.Key)).OfType<string>().Distinct().ToArray();
            var owners = await store.FileOwnersAsync(ids);
            foreach (var blob in batch)
            {
                if (BlobKeys.TaskOfUpload(blob.Key) is not { } id)
                {
                    continue; // not a name the service writes: not ours to delete
                }

                var owner = owners.GetValueOrDefault(id);
                if (owner is null || owner.State is TaskState.Succeeded or TaskState.Failed)
                {
                    await files.Blobs.DeleteAsync(blob.Key, cancellation);
                    removed++;
                }
            }
        }

        return removed;
    }

    /// <summary>
    /// A content-keyed thumbnail is needed while some task refers to it; an old-style one (named after
    /// its task, from before thumbnails were stored by content) while its task exists and the claim
    /// that wrote it is the task's last; a half-written file by nobody.
    /// </summary>
    private async Task<int> DeleteOrphanThumbnailsAsync(TimeSpan grace, CancellationToken cancellation)
    {
        var removed = await DeletePartialsAsync(cancellation);
        await foreach (var batch in Untouched(BlobKeys.Thumbnails, grace, cancellation)
                           .Where(blob => !blob.Key.EndsWith(PartialSuffix, StringComparison.Ordinal)).Chunk(BatchSize).WithCancellation(cancellation))
        {
            var inUse = await store.ThumbnailKeysInUseAsync(batch.Select(blob => blob.Key).ToArray());
            var oldStyle = batch.Select(blob => OldStyleOwner(blob.Key)).OfType<(string Id, string? Token)>().ToList();
            var owners = oldStyle.Count > 0 ? await store.FileOwnersAsync(oldStyle.Select(file => file.Id).Distinct().ToArray()) : [];
            foreach (var blob in batch.Where(blob => !inUse.Contains(blob.Key)))
            {
                var oldStyleOwner = OldStyleOwner(blob.Key);
                if (oldStyleOwner is null && !BlobKeys.IsContentThumbnail(blob.Key))
                {
                    continue; // not a name the service writes: not ours to delete
                }

                if (oldStyleOwner is var (id, token) && owners.GetValueOrDefault(id) is { } owner && (token is null || token == owner.LeaseToken))
                {
                    continue; // an old-style thumbnail its task still uses
                }

                if (oldStyleOwner is not null)
                {
                    await files.Blobs.DeleteAsync(blob.Key, cancellation); // named after its task: no other task can start to use it
                    removed++;
                }
                else if (await store.DeleteThumbnailIfUnusedAsync(blob.Key, files.DeleteThumbnailAsync))
                {
                    // Checked again under the key's lock: a task may have referred to the key and stored
                    // the same bytes again since the look above (then the blob is its thumbnail now).
                    removed++;
                }
            }
        }

        return removed;
    }

    private async Task<int> DeletePartialsAsync(CancellationToken cancellation)
    {
        var removed = 0;
        await foreach (var blob in Untouched(BlobKeys.Thumbnails, PartialGracePeriod, cancellation)
                           .Where(blob => blob.Key.EndsWith(PartialSuffix, StringComparison.Ordinal)).WithCancellation(cancellation))
        {
            await files.Blobs.DeleteAsync(blob.Key, cancellation);
            removed++;
        }

        return removed;
    }

    private IAsyncEnumerable<BlobInfo> Untouched(string prefix, TimeSpan grace, CancellationToken cancellation)
    {
        var untouchedSince = clock.GetUtcNow() - grace;
        return files.Blobs.ListAsync(prefix, cancellation).Where(blob => blob.LastModified < untouchedSince);
    }

    /// <summary>The task id (and lease token) in an old-style thumbnail name: <c>thumbnails/{id}.{ext}</c> or <c>thumbnails/{id}.{token}.{ext}</c>.</summary>
    private static (string Id, string? Token)? OldStyleOwner(string key)
    {
        var parts = key[BlobKeys.Thumbnails.Length..].Split('.');
        return parts.Length is 2 or 3 && TaskId.TryParse(parts[0], out var id) && id == parts[0]
            ? (id, parts.Length == 3 ? parts[1] : null)
            : null;
    }
}

public sealed record SweepResult(int ExpiredTasks, int OrphanFiles);

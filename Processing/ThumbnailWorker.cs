using Microsoft.Extensions.Options;
using ThumbnailApi.Imaging;
using ThumbnailApi.Operations;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Processing;

/// <summary>
/// Runs <see cref="ServiceOptions.WorkerCount"/> concurrent workers that take tasks from the
/// <see cref="ITaskFeed"/>, each claimed under a lease kept alive by heartbeats, thumbnailed under a
/// deadline, saved, and marked SUCCESS or FAILED with a code; nothing that happens to one task can
/// stop the others, and every write that finishes a task is fenced by its lease. Before the server
/// takes requests, claims a dead process left are put back in the queue. When the data folder or the
/// database cannot be used (disk full, read-only, server down), the worker does not stop: recovery is
/// retried until it works, and a task that storage failed goes back to the queue, its attempt not counted.
/// </summary>
public sealed class ThumbnailWorker(
    ITaskFeed feed,
    ITaskStore store,
    TaskFiles files,
    RetentionSweep sweep,
    StartupRecovery recovery,
    InstanceIdentity instance,
    TaskLeases leases,
    IThumbnailer thumbnailer,
    IOptions<ServiceOptions> options,
    TimeProvider clock,
    WorkerActivity activity,
    ThumbnailMetrics metrics,
    DecodeMemoryBudget memory,
    ILogger<ThumbnailWorker> logger) : BackgroundService, IHostedLifecycleService
{
    public const string CrashedMessage =
        "Processing this image stopped the service several times, so it was given up. The file is probably damaged; try another one.";

    private readonly ServiceOptions _options = options.Value;
    private CancellationToken _stopping;

    private TimeSpan RetryDelay => TimeSpan.FromSeconds(_options.RetryAfterSeconds);

    /// <summary>Runs before the web server starts, so uploads are taken only once the schema is current.</summary>
    public async Task StartingAsync(CancellationToken cancellationToken) => await TryRecoverAsync(cancellationToken);

    /// <summary>
    /// Brings the schema up to date, fails claims that used up their attempts, re-queues the other
    /// abandoned ones, removes the half-written thumbnails of claims that are over, and takes up the
    /// queue. False (and logged) when storage cannot be used; uploads wait for it. Other files no task
    /// needs are left to the retention sweep, which waits for them to be an hour old: with a shared
    /// folder, a file this instance does not know may be another instance's upload between its write
    /// and its row.
    /// </summary>
    private async Task<bool> TryRecoverAsync(CancellationToken cancellation)
    {
        try
        {
            files.EnsureFolders();
            await store.MigrateAsync(cancellation);
            var recovered = await store.RequeueAbandonedAsync(instance.Id, _options.MaxAttempts, CrashedMessage);
            foreach (var id in recovered.GivenUp)
            {
                WorkerLog.GaveUp(logger, id, _options.MaxAttempts);
                metrics.TaskGivenUp("processing_crashed");
                await files.TryDeleteUploadAsync(id);
            }

            var partials = await sweep.DeleteAbandonedPartialThumbnailsAsync();
            await feed.StartAsync(cancellation);
            WorkerLog.Recovered(logger, recovered.Requeued.Count, recovered.GivenUp.Count, partials);
            recovery.MarkComplete();
            return true;
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            WorkerLog.RecoveryFailed(logger, _options.RetryAfterSeconds, problem);
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        try
        {
            while (!recovery.IsComplete && !await TryRecoverAsync(stoppingToken))
            {
                await Task.Delay(RetryDelay, clock, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        var workers = Enumerable.Range(0, _options.WorkerCount)
            .Select(_ => Task.Run(() => DrainAsync(stoppingToken), CancellationToken.None))
            .ToArray();
        await Task.WhenAll(workers);
    }

    private async Task DrainAsync(CancellationToken stoppingToken)
    {
        using var alive = activity.LoopRunning();
        while (!stoppingToken.IsCancellationRequested)
        {
            ClaimedTask claimed;
            try
            {
                claimed = await feed.NextAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (StorageUnavailableException problem)
            {
                WorkerLog.ClaimFailed(logger, _options.RetryAfterSeconds, problem);
                await Task.Delay(RetryDelay, clock, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }

            // In-flight work is not cancelled by shutdown: it finishes, or its lease runs out and another start takes it.
            await ProcessAsync(claimed.Task, claimed.Lease);
        }
    }

    private async Task ProcessAsync(TaskRecord task, TaskLease lease)
    {
        var id = task.Id;
        using var busy = activity.Working();
        await using var keeper = new LeaseKeeper(store, id, lease, leases, clock);
        metrics.TaskStarted(task);
        WorkerLog.Started(logger, id, task.Attempts, task.InputFormat, task.InputWidth, task.InputHeight);
        var started = clock.GetTimestamp();
        try
        {
            var thumbnail = await TwinThumbnailAsync(task) ?? await MakeThumbnailAsync(task, keeper.Lost);
            var (key, sha256) = TaskFiles.ThumbnailKeyFor(thumbnail.Bytes, thumbnail.ContentType);

            // Thumbnails are stored once per content and shared, so a deletion of another task (DELETE,
            // retention, the orphan sweep) may be removing this very key right now. No race, by order and
            // one lock per key (ITaskStore.ReferenceThumbnailAsync): first refer to the key, a write that
            // takes the key's lock (SQLite's write lock; PostgreSQL's advisory lock on the key), which every
            // deleter holds from its check for other users until the blob is deleted; only then store the
            // bytes, if the blob is not there. So a deleter either checks after this reference and keeps
            // the blob (which therefore need not be written again), or deleted it before, and the save
            // below finds it gone and stores it again.
            // A worker fenced out at any step leaves no file of its own behind to clean up: an
            // unreferenced blob is removed by the retention sweep once it is an hour old.
            if (!await store.ReferenceThumbnailAsync(id, lease.Token, key))
            {
                WorkerLog.Discarded(logger, id);
                return;
            }

            await files.SaveThumbnailAsync(key, thumbnail.Bytes);
            var stored = new StoredThumbnail(thumbnail.ContentType, thumbnail.Width, thumbnail.Height, thumbnail.Bytes.Length, ETagOf(sha256), ThumbnailPipeline.Revision);
            if (await store.MarkSucceededAsync(id, lease.Token, stored))
            {
                WorkerLog.Succeeded(logger, id, stored.Width, stored.Height, stored.ContentType, stored.Bytes, clock.GetElapsedTime(started).TotalMilliseconds);
                metrics.TaskSucceeded(task, stored.Bytes);
                await files.TryDeleteUploadAsync(id);
            }
            else
            {
                WorkerLog.Discarded(logger, id);
            }
        }
        catch (ImageRejectedException rejection)
        {
            await FailAsync(task, lease, rejection.Code, rejection.Message);
        }
        catch (OperationCanceledException) when (keeper.IsLost)
        {
            WorkerLog.LeaseLost(logger, id);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Shutting down while waiting for decoding memory: the task goes back to the queue,
            // its attempt not counted, and this or another instance takes it.
            await TryReleaseClaimAsync(task, lease);
        }
        catch (FileNotFoundException)
        {
            await FailAsync(task, lease, "upload_missing", "The uploaded file was lost before it could be processed. Upload it again.");
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            // The image is not at fault: the task goes back to the queue and waits for storage.
            WorkerLog.StorageUnavailable(logger, id, _options.RetryAfterSeconds, problem);
            _ = ReleaseWhenStorageWorksAsync(id, lease);
        }
        catch (Exception exception)
        {
            // The per-task boundary: whatever went wrong, this task ends FAILED and the worker goes on.
            WorkerLog.Crashed(logger, id, exception);
            await FailAsync(task, lease, "internal_error", "An unexpected error stopped this thumbnail. Try again; if it keeps failing, report the task id.");
        }
    }

    /// <summary>
    /// The thumbnail of an earlier task made from the same bytes with the same options, when it still
    /// exists: the task completes without decoding anything.
    /// </summary>
    private async Task<EncodedThumbnail?> TwinThumbnailAsync(TaskRecord task)
    {
        if (!_options.ReuseIdenticalUploads
            || await store.FindSucceededTwinAsync(task, ThumbnailPipeline.Revision) is not { ThumbnailType: { } type } twin
            || TaskFiles.ThumbnailKeyOf(twin) is not { } twinKey
            || await files.ReadThumbnailAsync(twinKey) is not { } bytes)
        {
            return null;
        }

        WorkerLog.ReusedTwin(logger, task.Id, twin.Id);
        metrics.TaskReused();
        return new EncodedThumbnail(bytes, twin.ThumbnailWidth ?? 0, twin.ThumbnailHeight ?? 0, type);
    }

    /// <summary>
    /// Reserves the decoding memory the header said the task needs (waiting while other tasks hold
    /// the budget; the deadline starts once it is granted), then makes the thumbnail. A task recorded
    /// before its need was (tasks from an older version) reserves the whole budget.
    /// </summary>
    private async Task<EncodedThumbnail> MakeThumbnailAsync(TaskRecord task, CancellationToken leaseLost)
    {
        SpecNames.TryParseFit(task.Fit, out var fit);
        SpecNames.TryParseFormat(task.Format, out var format);
        var spec = new ThumbnailSpec(task.Width, task.Height, fit, format, task.Quality);
        var needed = task.MemoryBytes ?? memory.Capacity;
        for (var attempt = 0; ; attempt++)
        {
            if (needed > memory.Capacity - memory.Reserved)
            {
                WorkerLog.WaitingForMemory(logger, task.Id, needed, memory.Reserved, memory.Capacity);
            }

            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(_stopping, leaseLost);
            using var lease = await memory.ReserveAsync(needed, waiting.Token);
            try
            {
                return await RunUnderDeadlineAsync(task, spec, lease.Bytes, leaseLost);
            }
            catch (MemoryShortfallException shortfall) when (attempt == 0)
            {
                needed = shortfall.NeededBytes; // the estimate changed since upload (a newer version): reserve it and start again
            }
        }
    }

    /// <summary>
    /// Runs the pipeline on its own thread under the deadline. At the deadline the pipeline is
    /// cancelled and the worker waits until it has really stopped (every decoder checks every few
    /// rows), so the worker count bounds the decoding that goes on at once; then the task fails. A
    /// lost lease cancels the work too: its result would be fenced out.
    /// </summary>
    private async Task<EncodedThumbnail> RunUnderDeadlineAsync(TaskRecord task, ThumbnailSpec spec, long reservedBytes, CancellationToken leaseLost)
    {
        using var deadline = new CancellationTokenSource(_options.ProcessingTimeout, clock);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, leaseLost);
        var input = await files.OpenUploadAsync(task.Id, stop.Token);
        // A thread of its own, not the thread pool's: decoding holds a core for seconds, and on a small
        // machine the pool's few threads must stay free to answer requests (/healthz, uploads).
        var work = Task.Factory.StartNew(() => thumbnailer.Create(input, spec, reservedBytes, stop.Token),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            return await work.WaitAsync(_options.ProcessingTimeout, clock);
        }
        catch (Exception exception) when (exception is TimeoutException || (exception is OperationCanceledException && deadline.IsCancellationRequested))
        {
            await deadline.CancelAsync();
            var stopped = await WaitUntilStoppedAsync(task, work);
            WorkerLog.TimedOut(logger, task.Id, _options.ProcessingTimeoutSeconds, stopped.TotalMilliseconds);
            throw new ImageRejectedException(Rejection.Timeout,
                $"Processing took longer than {_options.ProcessingTimeoutSeconds} s and was stopped. The image may be hostile or damaged.");
        }
    }

    /// <summary>Waits for cancelled work to end, whatever it ends with; says so in the log every 10 s it does not.</summary>
    private async Task<TimeSpan> WaitUntilStoppedAsync(TaskRecord task, Task work)
    {
        var started = clock.GetTimestamp();
        while (!work.IsCompleted)
        {
            await Task.WhenAny(work, Task.Delay(TimeSpan.FromSeconds(10), clock));
            if (!work.IsCompleted)
            {
                WorkerLog.StillRunning(logger, task.Id, (int)clock.GetElapsedTime(started).TotalSeconds);
            }
        }

        _ = work.Exception; // observed: it was cancelled or failed after the deadline, which the task already reports
        return clock.GetElapsedTime(started);
    }

    private async Task FailAsync(TaskRecord task, TaskLease lease, string code, string message)
    {
        try
        {
            if (await store.MarkFailedAsync(task.Id, lease.Token, code, message))
            {
                WorkerLog.Failed(logger, task.Id, code, message);
                metrics.TaskFailed(task, code);
                await files.TryDeleteUploadAsync(task.Id);
            }
            else
            {
                WorkerLog.Discarded(logger, task.Id);
            }
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            WorkerLog.StorageUnavailable(logger, task.Id, _options.RetryAfterSeconds, problem);
            _ = ReleaseWhenStorageWorksAsync(task.Id, lease);
        }
    }

    private async Task TryReleaseClaimAsync(TaskRecord task, TaskLease lease)
    {
        try
        {
            if (await store.ReleaseClaimAsync(task.Id, lease.Token))
            {
                feed.Return(task.Id);
            }
        }
        catch (StorageUnavailableException)
        {
            // The claim stays until its lease runs out; then it goes back to the queue.
        }
    }

    /// <summary>
    /// After a pause, puts a task that storage failed back in the queue (releasing its claim, without
    /// counting the attempt), trying again after every pause until storage answers. The claim's lease is
    /// renewed while it waits: the pause (RetryAfterSeconds) may be longer than the lease, and a lease
    /// that ran out would make the reaper take the claim for a crash, count the attempt and, once an
    /// outage (an S3 server down for a minute) had outlasted MaxAttempts leases, fail a good image as
    /// processing_crashed. If the lease runs out all the same (the database is what is down), the
    /// reaper puts the task back instead, and the release finds nothing to do.
    /// </summary>
    private async Task ReleaseWhenStorageWorksAsync(string id, TaskLease lease)
    {
        await using var keeper = new LeaseKeeper(store, id, lease, leases, clock);
        try
        {
            while (true)
            {
                await Task.Delay(RetryDelay, clock, _stopping);
                try
                {
                    if (await store.ReleaseClaimAsync(id, lease.Token))
                    {
                        feed.Return(id);
                    }
                    else
                    {
                        WorkerLog.LeaseLost(logger, id); // taken by another worker or deleted meanwhile: say so, as every lost claim is
                    }

                    return;
                }
                catch (StorageUnavailableException problem)
                {
                    WorkerLog.StorageUnavailable(logger, id, _options.RetryAfterSeconds, problem);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Shutting down: the row says where the task is; its lease runs out and it is taken again.
        }
    }

    /// <summary>A strong validator: the first 128 bits of the thumbnail's SHA-256.</summary>
    private static string ETagOf(byte[] sha256) => $"\"{Convert.ToHexStringLower(sha256.AsSpan(0, 16))}\"";

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using ThumbnailApi.Imaging;
using ThumbnailApi.Operations;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Processing;

/// <summary>
/// Drains the queue with <see cref="ServiceOptions.WorkerCount"/> concurrent workers. Each task is
/// claimed atomically, thumbnailed under a deadline, saved, and marked SUCCESS or FAILED with a
/// code; nothing that happens to one task can stop the others. Before the server takes requests,
/// unfinished tasks from an earlier run are put back in the queue. When the data folder or the
/// database cannot be used (disk full, read-only), the worker does not stop: recovery is retried
/// until it works, and a task that storage failed goes back to the queue, its attempt not counted.
/// </summary>
public sealed class ThumbnailWorker(
    TaskQueue queue,
    Database database,
    TaskStore store,
    TaskFiles files,
    StartupRecovery recovery,
    IThumbnailer thumbnailer,
    IOptions<ServiceOptions> options,
    TimeProvider clock,
    WorkerActivity activity,
    ThumbnailMetrics metrics,
    TaskCompletionSignals completions,
    DecodeMemoryBudget memory,
    ILogger<ThumbnailWorker> logger) : BackgroundService, IHostedLifecycleService
{
    public const string CrashedMessage =
        "Processing this image stopped the service several times, so it was given up. The file is probably damaged; try another one.";

    private readonly ServiceOptions _options = options.Value;
    private IReadOnlyList<string> _recovered = [];
    private CancellationToken _stopping;

    private TimeSpan RetryDelay => TimeSpan.FromSeconds(_options.RetryAfterSeconds);

    /// <summary>Runs before the web server starts, so no upload can race with recovery.</summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        TryRecover();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Brings the schema up to date, fails tasks that used up their attempts, re-queues the rest and
    /// removes orphan files. False (and logged) when storage cannot be used; uploads wait for it.
    /// </summary>
    private bool TryRecover()
    {
        try
        {
            database.Migrate();
            files.EnsureFolders();
            var recovered = store.RecoverUnfinished(_options.MaxAttempts, CrashedMessage);
            foreach (var id in recovered.GivenUp)
            {
                WorkerLog.GaveUp(logger, id, _options.MaxAttempts);
                metrics.TaskGivenUp("processing_crashed");
            }

            var orphans = files.DeleteOrphans(store.UnfinishedIds());
            WorkerLog.Recovered(logger, recovered.Requeued.Count, recovered.GivenUp.Count, orphans);
            _recovered = recovered.Requeued;
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
            while (!recovery.IsComplete && !TryRecover())
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
        try
        {
            foreach (var id in _recovered)
            {
                await queue.EnqueueAsync(id, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: the rest are still queued in the database and come back at the next start.
        }

        await Task.WhenAll(workers);
    }

    private async Task DrainAsync(CancellationToken stoppingToken)
    {
        using var alive = activity.LoopRunning();
        try
        {
            await foreach (var id in queue.ReadAllAsync(stoppingToken))
            {
                // In-flight work is not cancelled by shutdown: it finishes, or stays claimed and is recovered.
                await ProcessAsync(id);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ProcessAsync(string id)
    {
        TaskRecord? task;
        try
        {
            task = store.TryClaim(id);
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            WorkerLog.StorageUnavailable(logger, id, _options.RetryAfterSeconds, problem);
            _ = RequeueWhenStorageWorksAsync(id, claimedAttempt: null);
            return;
        }

        if (task is null)
        {
            return;
        }

        using var busy = activity.Working();
        metrics.TaskStarted(task);
        WorkerLog.Started(logger, id, task.Attempts, task.InputFormat, task.InputWidth, task.InputHeight);
        var started = clock.GetTimestamp();
        try
        {
            var thumbnail = TwinThumbnail(task) ?? await MakeThumbnailAsync(task);
            var extension = TaskFiles.ExtensionFor(thumbnail.ContentType);
            files.SaveThumbnail(id, extension, thumbnail.Bytes);
            var stored = new StoredThumbnail(thumbnail.ContentType, thumbnail.Width, thumbnail.Height, thumbnail.Bytes.Length, ETagOf(thumbnail.Bytes), ThumbnailPipeline.Revision);
            if (store.MarkSucceeded(id, task.Attempts, stored))
            {
                completions.Raise(id);
                WorkerLog.Succeeded(logger, id, stored.Width, stored.Height, stored.ContentType, stored.Bytes, clock.GetElapsedTime(started).TotalMilliseconds);
                metrics.TaskSucceeded(task, stored.Bytes);
                files.TryDeleteUpload(id);
            }
            else
            {
                files.DeleteThumbnail(id, extension);
                WorkerLog.Discarded(logger, id);
            }
        }
        catch (ImageRejectedException rejection)
        {
            Fail(task, rejection.Code, rejection.Message);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Shutting down while waiting for decoding memory: the task goes back to the queue,
            // its attempt not counted, and the next start picks it up.
            TryReleaseClaim(task);
        }
        catch (FileNotFoundException)
        {
            Fail(task, "upload_missing", "The uploaded file was lost before it could be processed. Upload it again.");
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            // The image is not at fault: the task goes back to the queue and waits for storage.
            WorkerLog.StorageUnavailable(logger, id, _options.RetryAfterSeconds, problem);
            _ = RequeueWhenStorageWorksAsync(id, task.Attempts);
        }
        catch (Exception exception)
        {
            // The per-task boundary: whatever went wrong, this task ends FAILED and the worker goes on.
            WorkerLog.Crashed(logger, id, exception);
            Fail(task, "internal_error", "An unexpected error stopped this thumbnail. Try again; if it keeps failing, report the task id.");
        }
    }

    /// <summary>
    /// The thumbnail of an earlier task made from the same bytes with the same options, when it still
    /// exists: the task completes without decoding anything.
    /// </summary>
    private EncodedThumbnail? TwinThumbnail(TaskRecord task)
    {
        if (!_options.ReuseIdenticalUploads
            || store.FindSucceededTwin(task, ThumbnailPipeline.Revision) is not { ThumbnailType: { } type } twin
            || files.ReadThumbnail(twin.Id, TaskFiles.ExtensionFor(type)) is not { } bytes)
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
    private async Task<EncodedThumbnail> MakeThumbnailAsync(TaskRecord task)
    {
        SpecNames.TryParseFit(task.Fit, out var fit);
        SpecNames.TryParseFormat(task.Format, out var format);
        var spec = new ThumbnailSpec(task.Width, task.Height, fit, format);
        var needed = task.MemoryBytes ?? memory.Capacity;
        for (var attempt = 0; ; attempt++)
        {
            if (needed > memory.Capacity - memory.Reserved)
            {
                WorkerLog.WaitingForMemory(logger, task.Id, needed, memory.Reserved, memory.Capacity);
            }

            using var lease = await memory.ReserveAsync(needed, _stopping);
            try
            {
                return await RunUnderDeadlineAsync(task, spec, lease.Bytes);
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
    /// rows), so the worker count bounds the decoding that goes on at once; then the task fails.
    /// </summary>
    private async Task<EncodedThumbnail> RunUnderDeadlineAsync(TaskRecord task, ThumbnailSpec spec, long reservedBytes)
    {
        using var deadline = new CancellationTokenSource(_options.ProcessingTimeout, clock);
        // A thread of its own, not the thread pool's: decoding holds a core for seconds, and on a small
        // machine the pool's few threads must stay free to answer requests (/healthz, uploads).
        var work = Task.Factory.StartNew(() => thumbnailer.Create(files.OpenUpload(task.Id), spec, reservedBytes, deadline.Token),
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

    private void Fail(TaskRecord task, string code, string message)
    {
        try
        {
            if (store.MarkFailed(task.Id, task.Attempts, code, message))
            {
                completions.Raise(task.Id);
                WorkerLog.Failed(logger, task.Id, code, message);
                metrics.TaskFailed(task, code);
                files.TryDeleteUpload(task.Id);
            }
            else
            {
                WorkerLog.Discarded(logger, task.Id);
            }
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            WorkerLog.StorageUnavailable(logger, task.Id, _options.RetryAfterSeconds, problem);
            _ = RequeueWhenStorageWorksAsync(task.Id, task.Attempts);
        }
    }

    private void TryReleaseClaim(TaskRecord task)
    {
        try
        {
            store.ReleaseClaim(task.Id, task.Attempts);
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            // The row stays 'processing': start-up recovery puts it back in the queue.
        }
    }

    /// <summary>
    /// After a pause, puts a task that storage failed back in the queue (first releasing its claim,
    /// without counting the attempt), trying again after every pause until storage answers.
    /// </summary>
    private async Task RequeueWhenStorageWorksAsync(string id, int? claimedAttempt)
    {
        try
        {
            while (true)
            {
                await Task.Delay(RetryDelay, clock, _stopping);
                try
                {
                    if (claimedAttempt is not { } attempt || store.ReleaseClaim(id, attempt))
                    {
                        await queue.EnqueueAsync(id, _stopping);
                    }

                    return;
                }
                catch (Exception problem) when (StorageUnavailableException.Matches(problem))
                {
                    WorkerLog.StorageUnavailable(logger, id, _options.RetryAfterSeconds, problem);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Shutting down: the row says where the task is; the next start picks it up.
        }
    }

    /// <summary>A strong validator: the first 128 bits of the thumbnail's SHA-256.</summary>
    private static string ETagOf(byte[] bytes) => $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 16))}\"";

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

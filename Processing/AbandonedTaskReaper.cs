using Microsoft.Extensions.Options;
using ThumbnailApi.Operations;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Processing;

/// <summary>
/// On every instance, every half lease: claims whose holder is gone (its lease expired) go back to
/// the queue, or are failed <c>processing_crashed</c> after <see cref="ServiceOptions.MaxAttempts"/>.
/// Concurrent reapers on several instances are harmless: each row is updated by one of them. With a
/// single-process database nothing is ever abandoned while the process runs (its workers renew their
/// leases); start-up recovery re-queues what a previous run left.
/// </summary>
public sealed partial class AbandonedTaskReaper(
    ITaskStore store,
    ITaskFeed feed,
    TaskFiles files,
    StartupRecovery recovery,
    InstanceIdentity instance,
    TaskLeases leases,
    IOptions<ServiceOptions> options,
    ThumbnailMetrics metrics,
    TimeProvider clock,
    ILogger<AbandonedTaskReaper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(leases.Duration / 2, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (recovery.IsComplete)
                {
                    await ReapAsync();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public async Task ReapAsync()
    {
        try
        {
            var reaped = await store.RequeueAbandonedAsync(instance.Id, options.Value.MaxAttempts, ThumbnailWorker.CrashedMessage);
            foreach (var id in reaped.GivenUp)
            {
                WorkerLog.GaveUp(logger, id, options.Value.MaxAttempts);
                metrics.TaskGivenUp("processing_crashed");
                await files.TryDeleteUploadAsync(id);
            }

            foreach (var id in reaped.Requeued)
            {
                Requeued(logger, id);
                feed.Return(id);
            }
        }
        catch (StorageUnavailableException problem)
        {
            ReapFailed(logger, problem);
        }
    }

    [LoggerMessage(1015, LogLevel.Warning, "Task {TaskId} went back to the queue: the instance that held it stopped renewing its lease")]
    private static partial void Requeued(ILogger logger, string taskId);

    [LoggerMessage(1016, LogLevel.Warning, "Looking for abandoned tasks failed: the database cannot be used; trying again at the next beat")]
    private static partial void ReapFailed(ILogger logger, Exception exception);
}

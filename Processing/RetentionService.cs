using Microsoft.Extensions.Options;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Processing;

/// <summary>Runs the <see cref="RetentionSweep"/> at start-up and then every <see cref="ServiceOptions.RetentionSweepMinutes"/>.</summary>
public sealed partial class RetentionService(
    RetentionSweep sweep, IOptions<ServiceOptions> options, TimeProvider clock, ILogger<RetentionService> logger) : BackgroundService
{
    private readonly TimeSpan _interval = TimeSpan.FromMinutes(options.Value.RetentionSweepMinutes);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // off the start-up path
        using var timer = new PeriodicTimer(_interval, clock);
        try
        {
            do
            {
                await SweepOnceAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task SweepOnceAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (sweep.DeleteStaleScratchFiles() is > 0 and var scratch)
            {
                ScratchSwept(logger, scratch);
            }

            var result = await sweep.RunAsync(stoppingToken);
            if (result is not null && (result.ExpiredTasks > 0 || result.OrphanFiles > 0))
            {
                Swept(logger, result.ExpiredTasks, result.OrphanFiles);
            }
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            // A busy database or an unreadable file: try again at the next sweep, keep the service running.
            SweepFailed(logger, problem);
        }
    }

    [LoggerMessage(1200, LogLevel.Information, "Retention sweep removed {Tasks} expired task(s) and {Orphans} orphan file(s)")]
    private static partial void Swept(ILogger logger, int tasks, int orphans);

    [LoggerMessage(1202, LogLevel.Information, "Retention sweep removed {Files} stale scratch file(s) left by an earlier process")]
    private static partial void ScratchSwept(ILogger logger, int files);

    [LoggerMessage(1201, LogLevel.Warning, "Retention sweep stopped early; it runs again at the next interval")]
    private static partial void SweepFailed(ILogger logger, Exception exception);
}

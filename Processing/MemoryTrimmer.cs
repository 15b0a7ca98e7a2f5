using Microsoft.Extensions.Options;
using ThumbnailApi.Imaging;

namespace ThumbnailApi.Processing;

/// <summary>
/// Gives memory back to the system after a spike. Native pixel buffers go back as soon as they are
/// freed (see <see cref="NativeHeap"/>), but the managed heap keeps what LibTiff.NET allocated
/// while it decoded (a progressive JPEG inside a TIFF holds hundreds of megabytes of coefficient
/// arrays), and the server GC keeps committed memory for later allocations. Every few seconds, when
/// no task is decoding and the managed heap holds much more than when the service was last idle and
/// trimmed, this runs the runtime's aggressive collection, which decommits what is free, and asks
/// glibc to return its free pages. A blocking collection of the live heap takes milliseconds, and it
/// never runs while a worker decodes.
/// </summary>
public sealed partial class MemoryTrimmer(
    WorkerActivity workers,
    DecodeMemoryBudget memory,
    TimeProvider clock,
    ILogger<MemoryTrimmer> logger) : BackgroundService
{
    /// <summary>How often the heap is looked at.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    /// <summary>Committed managed memory above the last trimmed level that is worth a collection.</summary>
    public const long Threshold = 32L * 1024 * 1024;

    private long _trimmedLevel = long.MaxValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                TrimIfIdle();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Collects and decommits when nothing is decoding and the heap grew; true when it did.</summary>
    public bool TrimIfIdle()
    {
        if (workers.Busy > 0 || memory.Reserved > 0)
        {
            return false;
        }

        NativeBlocks.Shared.Release(); // the upload blocks kept for reuse: nothing to reuse them for now
        var committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
        if (_trimmedLevel != long.MaxValue && committed < _trimmedLevel + Threshold)
        {
            return false;
        }

        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        NativeHeap.ReturnFreePages();
        var after = GC.GetGCMemoryInfo().TotalCommittedBytes;
        if (_trimmedLevel != long.MaxValue)
        {
            Trimmed(logger, committed >> 20, after >> 20);
        }

        _trimmedLevel = after;
        return true;
    }

    [LoggerMessage(1300, LogLevel.Debug, "Memory trimmed while idle: managed heap {BeforeMb} MB committed, {AfterMb} MB after")]
    private static partial void Trimmed(ILogger logger, long beforeMb, long afterMb);
}

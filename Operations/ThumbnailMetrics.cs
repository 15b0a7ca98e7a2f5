using System.Diagnostics.Metrics;
using ThumbnailApi.Persistence;
using ThumbnailApi.Processing;

namespace ThumbnailApi.Operations;

/// <summary>
/// The service's own metrics, all in one meter. The upload endpoint and the worker record through
/// this class; queue depth and worker counts are read when /metrics is scraped.
/// Prometheus names: see README "Operations".
/// </summary>
public sealed class ThumbnailMetrics
{
    public const string MeterName = "ThumbnailApi";

    /// <summary>Seconds: from a few milliseconds (a small PNG) to the longest deadline a task may have.</summary>
    private static readonly IReadOnlyList<double> SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

    private readonly TimeProvider _clock;
    private readonly Counter<long> _uploads;
    private readonly Counter<long> _tasks;
    private readonly Counter<long> _uploadedBytes;
    private readonly Counter<long> _producedBytes;
    private readonly Counter<long> _reused;
    private readonly Histogram<double> _queueWait;
    private readonly Histogram<double> _processing;
    private readonly Histogram<double> _endToEnd;

    public ThumbnailMetrics(IMeterFactory meters, ITaskFeed queue, WorkerActivity workers, DecodeMemoryBudget memory, TimeProvider clock)
    {
        _clock = clock;
        var meter = meters.Create(MeterName);
        _uploads = meter.CreateCounter<long>("thumbnail.uploads", "{upload}",
            "Upload requests by outcome: accepted, or the error code they were refused with.");
        _tasks = meter.CreateCounter<long>("thumbnail.tasks", "{task}",
            "Tasks that finished, by task_status (SUCCESS or FAILED) and, for FAILED, error_code.");
        _uploadedBytes = meter.CreateCounter<long>("thumbnail.uploaded", "By", "Bytes of accepted uploads.");
        _producedBytes = meter.CreateCounter<long>("thumbnail.produced", "By", "Bytes of thumbnails made.");
        _reused = meter.CreateCounter<long>("thumbnail.reused", "{task}",
            "Tasks given the thumbnail of an earlier upload with the same bytes and options, without decoding (also counted in thumbnail.tasks).");
        var buckets = new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets };
        _queueWait = meter.CreateHistogram("thumbnail.queue.wait", "s", "From upload to a worker taking the task.", advice: buckets);
        _processing = meter.CreateHistogram("thumbnail.processing", "s", "From a worker taking the task to its end (decode, resize, encode, save).", advice: buckets);
        _endToEnd = meter.CreateHistogram("thumbnail.end_to_end", "s", "From upload to the task's end.", advice: buckets);
        meter.CreateObservableGauge("thumbnail.queue.depth", () => queue.Depth, "{task}", "Tasks waiting in the queue for a worker (with PostgreSQL: in every instance, as last counted).");
        meter.CreateObservableGauge("thumbnail.queue.capacity", () => queue.Capacity, "{task}", "Tasks the queue holds before uploads get 503.");
        meter.CreateObservableGauge("thumbnail.workers.busy", () => workers.Busy, "{worker}", "Workers making a thumbnail right now.");
        meter.CreateObservableGauge("thumbnail.workers.alive", () => workers.Alive, "{worker}", "Worker loops running.");
        meter.CreateObservableGauge("thumbnail.decode_memory.reserved", () => memory.Reserved, "By",
            "Decoding memory reserved right now by tasks and upload checks (at most MaxDecodeMemoryBytes).");
        meter.CreateObservableGauge("thumbnail.decode_memory.capacity", () => memory.Capacity, "By", "The decoding memory budget (MaxDecodeMemoryBytes).");
        meter.CreateObservableGauge("thumbnail.decode_memory.waiting", () => memory.Waiting, "{request}",
            "Tasks and upload checks waiting for decoding memory.");
    }

    /// <summary>An upload request ended: <paramref name="outcome"/> is "accepted" or an error code.</summary>
    public void UploadFinished(string outcome) => _uploads.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void UploadAccepted(long bytes) => _uploadedBytes.Add(bytes);

    /// <summary>A worker claimed the task (its started_at was just set).</summary>
    public void TaskStarted(TaskRecord task) => _queueWait.Record(Seconds(task.CreatedAt, task.StartedAt ?? Now));

    public void TaskReused() => _reused.Add(1);

    public void TaskSucceeded(TaskRecord task, long thumbnailBytes)
    {
        _producedBytes.Add(thumbnailBytes);
        Finished(task, new KeyValuePair<string, object?>("task_status", "SUCCESS"));
    }

    public void TaskFailed(TaskRecord task, string errorCode) =>
        Finished(task, new KeyValuePair<string, object?>("task_status", "FAILED"), new KeyValuePair<string, object?>("error_code", errorCode));

    /// <summary>A task failed at start-up recovery, without a worker taking it (no timings).</summary>
    public void TaskGivenUp(string errorCode) =>
        _tasks.Add(1, new KeyValuePair<string, object?>("task_status", "FAILED"), new KeyValuePair<string, object?>("error_code", errorCode));

    private void Finished(TaskRecord task, params ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var now = Now;
        _tasks.Add(1, tags);
        _processing.Record(Seconds(task.StartedAt ?? now, now));
        _endToEnd.Record(Seconds(task.CreatedAt, now));
    }

    private long Now => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    private static double Seconds(long fromMs, long toMs) => Math.Max(0, toMs - fromMs) / 1000.0;
}

using Microsoft.Extensions.Diagnostics.HealthChecks;
using ThumbnailApi.Persistence;
using ThumbnailApi.Processing;

namespace ThumbnailApi.Operations;

/// <summary>The database answers a query on the tasks table and would take a write (the store says how it tells).</summary>
public sealed class DatabaseCheck(ITaskStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var health = await Task.Run(() => store.CheckHealthAsync(cancellationToken), cancellationToken).WaitAsync(cancellationToken);
        var data = health.UnfinishedTasks is { } unfinished ? new Dictionary<string, object> { ["unfinished_tasks"] = unfinished } : [];
        return health.Healthy ? HealthCheckResult.Healthy(health.Description, data) : HealthCheckResult.Unhealthy(health.Description, data: data);
    }
}

/// <summary>
/// Where bytes are stored takes writes (the blob store writes, reads back and removes a small blob:
/// in the data folder, or in the bucket), and the data folder, where uploads are received, has its
/// free space above the reserve (uploads are refused while it is not). Descriptions name the cause,
/// never a path, bucket address or credential.
/// </summary>
public sealed class DataFolderCheck(TaskFiles files, DiskReserve reserve) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var health = await Task.Run(() => files.Blobs.CheckHealthAsync(cancellationToken), cancellationToken).WaitAsync(cancellationToken);
        var data = new Dictionary<string, object>(health.Data);
        try
        {
            data["available_bytes"] = files.AvailableBytes();
        }
        catch (IOException)
        {
            // Not measurable (the folder is gone): the probe says why.
        }

        data["min_free_bytes"] = reserve.ReserveBytes;
        if (!health.Healthy)
        {
            return HealthCheckResult.Unhealthy(health.Description, data: data);
        }

        return reserve.HasRoomFor(0)
            ? HealthCheckResult.Healthy(health.Description, data)
            : HealthCheckResult.Unhealthy(
                "The data folder's free space is under the reserve (min_free_bytes): uploads are refused with 503 until space is freed.",
                data: data);
    }
}

/// <summary>
/// Start-up recovery has run: until the data folder and database could be used, unfinished tasks
/// were not re-queued and uploads are refused with 503.
/// </summary>
public sealed class RecoveryCheck(StartupRecovery recovery) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(recovery.IsComplete
            ? HealthCheckResult.Healthy("Start-up recovery has run.")
            : HealthCheckResult.Unhealthy("Start-up recovery has not run yet: the data folder or the database cannot be used."));
}

/// <summary>Every configured worker loop is running. Also reports how much of the decoding memory budget is taken.</summary>
public sealed class WorkersCheck(WorkerActivity workers, DecodeMemoryBudget memory) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["alive"] = workers.Alive, ["expected"] = workers.Expected, ["busy"] = workers.Busy,
            ["decode_memory_reserved_bytes"] = memory.Reserved, ["decode_memory_capacity_bytes"] = memory.Capacity,
            ["waiting_for_memory"] = memory.Waiting,
        };
        return Task.FromResult(workers.Alive >= workers.Expected
            ? HealthCheckResult.Healthy("All workers are running.", data)
            : HealthCheckResult.Unhealthy($"{workers.Alive} of {workers.Expected} workers are running.", data: data));
    }
}

/// <summary>The queue has room for another upload.</summary>
public sealed class QueueCheck(ITaskFeed queue) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["depth"] = queue.Depth, ["capacity"] = queue.Capacity };
        return Task.FromResult(queue.Depth >= queue.Capacity
            ? HealthCheckResult.Unhealthy("The queue is full: uploads are refused with 503 until workers catch up.", data: data)
            : HealthCheckResult.Healthy("The queue has room.", data));
    }
}

/// <summary>
/// On PostgreSQL, this instance's LISTEN connection is open. While it is not, the instance still
/// works, more slowly: its long-polls wait out their whole <c>?wait=</c> and its idle workers take
/// queued tasks only at the fallback poll. That is <c>degraded</c> (still 200): the instance can take
/// uploads, but an operator should know. One process on SQLite needs no connection for this.
/// </summary>
public sealed class NotificationsCheck(IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            !StoreRegistration.SharedByInstances(services) ? HealthCheckResult.Healthy("One process: tasks are handed over in memory.")
            : services.GetRequiredService<PostgresListener>().Listening ? HealthCheckResult.Healthy("Listening for notifications from PostgreSQL.")
            : HealthCheckResult.Degraded(
                "Not listening for PostgreSQL notifications (reconnecting): long-polls answer only at their deadline and idle workers find queued tasks by polling."));
}

/// <summary>
/// The image formats this instance reads: always PNG, JPEG, GIF, BMP, TIFF and WebP; HEIC and AVIF
/// when libheif and its decoder for each are installed. Healthy either way (HEIC and AVIF are
/// optional); the description says what is missing and how to add it.
/// </summary>
public sealed class InputFormatsCheck : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var heif = ThumbnailApi.Imaging.Heif.HeifLibrary.Support;
        var formats = new List<string> { "png", "jpeg", "gif", "bmp", "tiff", "webp" };
        if (heif.Hevc)
        {
            formats.Add("heic");
        }

        if (heif.Av1)
        {
            formats.Add("avif");
        }

        var data = new Dictionary<string, object> { ["formats"] = formats, ["libheif"] = heif.Version ?? "not installed" };
        var description = (heif.Hevc, heif.Av1) switch
        {
            (true, true) => "every input format, HEIC and AVIF through libheif " + heif.Version,
            (false, false) when heif.Version is null => "HEIC and AVIF are refused: libheif is not installed (apt-get install libheif1)",
            _ => $"libheif {heif.Version} lacks a decoder: {(heif.Hevc ? "" : "HEIC (HEVC, e.g. libheif-plugin-libde265) ")}{(heif.Av1 ? "" : "AVIF (AV1, e.g. libheif-plugin-dav1d)")}".TrimEnd(),
        };
        return Task.FromResult(HealthCheckResult.Healthy(description, data));
    }
}

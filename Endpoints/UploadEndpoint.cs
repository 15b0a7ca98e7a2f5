using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using ThumbnailApi.Imaging;
using ThumbnailApi.Operations;
using ThumbnailApi.Persistence;
using ThumbnailApi.Processing;

namespace ThumbnailApi.Endpoints;

/// <summary>
/// POST an image: stream it to disk, check its header, record the task, queue its id, answer 202.
/// The row is committed and the id queued before the answer; when the queue is full nothing is kept.
/// When storage fails (disk full, folder not writable) the request ends in a 503 storage_unavailable
/// from the error handler, and the upload file is removed: no row, no file. While the disk's free
/// space is under the reserve (<see cref="DiskReserve"/>), uploads get that 503 before the body is read.
/// </summary>
public static partial class UploadEndpoint
{
    /// <summary>Room for boundaries, part headers and option fields around the file itself.</summary>
    private const long MultipartOverhead = 64 * 1024;

    public static async Task<Results<Accepted<UploadAccepted>, JsonHttpResult<ApiError>>> HandleAsync(
        HttpContext context,
        ITaskStore store,
        TaskFiles files,
        ITaskFeed feed,
        StartupRecovery recovery,
        DiskReserve reserve,
        IOptions<ServiceOptions> options,
        TimeProvider clock,
        ILoggerFactory loggers,
        ThumbnailMetrics metrics,
        DecodeMemoryBudget memory,
        CancellationToken cancellation)
    {
        var settings = options.Value;
        var request = context.Request;

        var (idempotencyKey, keyError) = IdempotentUpload.ReadKey(request);
        if (keyError is not null)
        {
            return keyError;
        }

        // Cheap refusals first, before a byte of the body is read. A retry of a task that exists is not refused.
        if (!recovery.IsComplete)
        {
            return StorageUnavailable(context, settings);
        }

        var keysValidSince = IdempotentUpload.KeysValidSince(clock);
        if (!await feed.HasRoomAsync() && (idempotencyKey is null || await store.FindByIdempotencyKeyAsync(idempotencyKey, keysValidSince) is null))
        {
            return QueueFull(context, settings);
        }

        if (request.ContentLength > settings.MaxUploadBytes + MultipartOverhead)
        {
            return ApiErrors.FileTooLarge(settings.MaxUploadBytes);
        }

        if (!reserve.HasRoomFor(request.ContentLength ?? 0))
        {
            return StorageUnavailable(context, settings);
        }

        var (querySpec, queryError) = UploadOptions.Parse(request.Query, new Dictionary<string, string>());
        if (queryError is not null)
        {
            return queryError;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = settings.MaxUploadBytes + MultipartOverhead;
        }

        var id = TaskId.New();
        var accepted = false;
        using var digest = new UploadDigest();
        using var body = new IdleUploadBody(
            context, TimeSpan.FromSeconds(settings.UploadIdleTimeoutSeconds), clock, loggers.CreateLogger(typeof(UploadEndpoint)));
        try
        {
            var (form, formError) = await MultipartUpload.ReadAsync(
                request, body, () => digest.Wrap(files.CreateUpload(id)), settings.MaxUploadBytes, cancellation);
            if (form is null)
            {
                return formError!;
            }

            var (spec, optionError) = UploadOptions.Parse(request.Query, form.Fields);
            if (spec is null)
            {
                return optionError!;
            }

            ImageInspection inspection;
            try
            {
                // Reading the header holds the file in memory: that memory comes out of the decoding budget too
                // (ahead of tasks waiting for a big decode to end, when it fits: the check takes milliseconds).
                using var probeMemory = await memory.ReserveAsync(HeaderProbe.ProbeMemoryBytes(form.Format, form.Bytes), cancellation, aheadOfWaiting: true);
                using var upload = files.OpenReceivedUpload(id);
                inspection = HeaderProbe.Inspect(upload, spec, settings.ImagingLimits, cancellation);
            }
            catch (ImageRejectedException rejection)
            {
                return rejection.Reason == Rejection.UnsupportedFormat
                    ? ApiErrors.UnsupportedFormat(rejection.Message)
                    : ApiErrors.Unprocessable(rejection.Code, rejection.Message);
            }

            // A 202 means the bytes are durable: a remote store has them before the task exists.
            await files.StoreUploadAsync(id, form.Bytes, cancellation);
            var header = inspection.Header;
            var task = new TaskRecord
            {
                Id = id,
                FileName = form.FileName,
                InputFormat = header.Format.MimeType(),
                InputBytes = form.Bytes,
                InputWidth = header.DisplayWidth,
                InputHeight = header.DisplayHeight,
                Width = spec.Width,
                Height = spec.Height,
                Fit = spec.Fit.Name(),
                Format = spec.Format.Name(),
                Quality = spec.Quality,
                CreatedAt = clock.GetUtcNow().ToUnixTimeMilliseconds(),
                IdempotencyKey = idempotencyKey,
                RequestHash = idempotencyKey is null ? null : IdempotentUpload.RequestHash(digest.Hash, spec),
                ContentHash = Convert.ToHexStringLower(digest.Hash),
                MemoryBytes = inspection.MemoryBytes,
            };
            if (idempotencyKey is null)
            {
                await store.InsertQueuedAsync(task);
            }
            else if (await store.InsertQueuedUnlessKeyTakenAsync(task, keysValidSince) is { } earlier)
            {
                // A retry (or a concurrent twin) of an upload that already has a task: this copy is dropped.
                return earlier.RequestHash == task.RequestHash ? IdempotentUpload.Replay(context, earlier.Id) : ApiErrors.IdempotencyKeyReused();
            }

            if (!feed.Offer(id))
            {
                await store.RemoveUnqueuedAsync(id);
                return QueueFull(context, settings);
            }

            accepted = true;
            Accepted(loggers.CreateLogger(typeof(UploadEndpoint)), id, header.Format.MimeType(), header.DisplayWidth, header.DisplayHeight, form.Bytes);
            metrics.UploadAccepted(form.Bytes);
            return TypedResults.Accepted($"{ThumbnailEndpoints.Prefix}/{id}", TaskResponses.Accepted(request, id));
        }
        finally
        {
            if (!accepted)
            {
                await files.TryDeleteUploadAsync(id);
            }
        }
    }

    private static JsonHttpResult<ApiError> StorageUnavailable(HttpContext context, ServiceOptions settings)
    {
        context.Response.Headers.RetryAfter = settings.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return ApiErrors.StorageUnavailable();
    }

    private static JsonHttpResult<ApiError> QueueFull(HttpContext context, ServiceOptions settings)
    {
        context.Response.Headers.RetryAfter = settings.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return ApiErrors.QueueFull();
    }

    [LoggerMessage(1000, LogLevel.Information, "Task {TaskId} accepted: {Format} {Width}x{Height}, {Bytes} bytes")]
    private static partial void Accepted(ILogger logger, string taskId, string format, int width, int height, long bytes);
}

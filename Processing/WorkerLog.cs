namespace ThumbnailApi.Processing;

/// <summary>The worker's log lines. Ids and codes only: never image bytes or file paths.</summary>
internal static partial class WorkerLog
{
    [LoggerMessage(1001, LogLevel.Information, "Task {TaskId} started (attempt {Attempt}, {Format} {InputWidth}x{InputHeight})")]
    public static partial void Started(ILogger logger, string taskId, int attempt, string format, int inputWidth, int inputHeight);

    [LoggerMessage(1002, LogLevel.Information, "Task {TaskId} succeeded: {Width}x{Height} {ContentType}, {Bytes} bytes in {ElapsedMs:F0} ms")]
    public static partial void Succeeded(ILogger logger, string taskId, int width, int height, string contentType, long bytes, double elapsedMs);

    [LoggerMessage(1003, LogLevel.Warning, "Task {TaskId} failed with {Code}: {Reason}")]
    public static partial void Failed(ILogger logger, string taskId, string code, string reason);

    [LoggerMessage(1004, LogLevel.Error, "Task {TaskId} failed unexpectedly")]
    public static partial void Crashed(ILogger logger, string taskId, Exception exception);

    [LoggerMessage(1005, LogLevel.Information, "Start-up recovery: {Requeued} abandoned task(s) back in the queue; gave up on {GivenUp} that used all their attempts; removed {Partials} half-written thumbnail(s)")]
    public static partial void Recovered(ILogger logger, int requeued, int givenUp, int partials);

    [LoggerMessage(1006, LogLevel.Warning, "Task {TaskId} gave up after {Attempts} attempts that did not finish")]
    public static partial void GaveUp(ILogger logger, string taskId, int attempts);

    [LoggerMessage(1007, LogLevel.Warning, "Task {TaskId} ran past its {TimeoutSeconds} s deadline; its work stopped {StopMs:F0} ms later")]
    public static partial void TimedOut(ILogger logger, string taskId, int timeoutSeconds, double stopMs);

    [LoggerMessage(1013, LogLevel.Warning, "Task {TaskId} is still being decoded {Seconds} s after its deadline (a decoder that cannot be interrupted); its worker waits for it")]
    public static partial void StillRunning(ILogger logger, string taskId, int seconds);

    [LoggerMessage(1014, LogLevel.Debug, "Task {TaskId} waits for {Bytes} bytes of decoding memory ({Reserved} of {Capacity} reserved)")]
    public static partial void WaitingForMemory(ILogger logger, string taskId, long bytes, long reserved, long capacity);

    [LoggerMessage(1008, LogLevel.Information, "Task {TaskId} was finished or removed by someone else; result discarded")]
    public static partial void Discarded(ILogger logger, string taskId);

    [LoggerMessage(1009, LogLevel.Warning, "Task {TaskId} waits: the data folder, blob store or database cannot be used; trying again in {Seconds} s")]
    public static partial void StorageUnavailable(ILogger logger, string taskId, int seconds, Exception exception);

    [LoggerMessage(1010, LogLevel.Error, "Start-up recovery failed: the data folder or database cannot be used. Uploads are refused until it works; trying again every {Seconds} s")]
    public static partial void RecoveryFailed(ILogger logger, int seconds, Exception exception);

    [LoggerMessage(1017, LogLevel.Warning, "Could not claim a task: the database cannot be used; trying again in {Seconds} s")]
    public static partial void ClaimFailed(ILogger logger, int seconds, Exception exception);

    [LoggerMessage(1018, LogLevel.Warning, "Task {TaskId}: this worker's claim was lost (its lease ran out and the task went to another worker, or the task was deleted); its work was stopped and its result dropped")]
    public static partial void LeaseLost(ILogger logger, string taskId);

    [LoggerMessage(1012, LogLevel.Information, "Task {TaskId} has the same bytes and options as task {TwinId}: its thumbnail is reused, nothing is decoded")]
    public static partial void ReusedTwin(ILogger logger, string taskId, string twinId);
}

namespace ThumbnailApi.Processing;

/// <summary>
/// Whether start-up recovery has finished. It normally finishes before the server takes requests;
/// when the data folder or database cannot be used at start, the service runs anyway and the worker
/// retries until storage works. Until then uploads are refused with 503 (recovery deletes upload
/// files no task row names, so it must not run beside an upload), and the service is not ready.
/// </summary>
public sealed class StartupRecovery
{
    private volatile bool _complete;

    public bool IsComplete => _complete;

    internal void MarkComplete() => _complete = true;
}

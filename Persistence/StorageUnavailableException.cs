namespace ThumbnailApi.Persistence;

/// <summary>
/// The data folder or the database cannot be used right now: the disk is full, the folder is
/// read-only or gone, the database is locked or out of reach. The service's trouble, not the
/// request's: it is answered 503 storage_unavailable with Retry-After, and work waits until storage
/// is back. Each store turns its database's own errors of that kind into this exception, so code
/// outside Persistence never sees a database's exception types.
/// </summary>
public sealed class StorageUnavailableException(Exception inner)
    : Exception("The data folder or the database cannot be used.", inner)
{
    /// <summary>True for the exceptions that mean storage trouble rather than a bug in the service.</summary>
    public static bool Matches(Exception exception) =>
        exception is StorageUnavailableException or IOException or UnauthorizedAccessException;
}

using Microsoft.Data.Sqlite;

namespace ThumbnailApi.Persistence;

/// <summary>
/// The data folder or the database cannot be used right now: the disk is full, the folder is
/// read-only or gone, the database is locked. The service's trouble, not the request's: it is
/// answered 503 storage_unavailable with Retry-After, and work waits until storage is back.
/// </summary>
public sealed class StorageUnavailableException(Exception inner)
    : Exception("The data folder or the database cannot be used.", inner)
{
    /// <summary>True for the exceptions that mean storage trouble rather than a bug in the service.</summary>
    public static bool Matches(Exception exception) => exception switch
    {
        StorageUnavailableException or IOException or UnauthorizedAccessException => true,
        SqliteException sqlite => sqlite.SqliteErrorCode is SqliteBusy or SqliteLocked or SqliteReadOnly or SqliteIoError
            or SqliteCorrupt or SqliteFull or SqliteCantOpen or SqlitePermission or SqliteNotADatabase,
        _ => false,
    };

    // Primary SQLite result codes (sqlite3.h); SqliteErrorCode carries the primary code.
    private const int SqlitePermission = 3;
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteReadOnly = 8;
    private const int SqliteIoError = 10;
    private const int SqliteCorrupt = 11;
    private const int SqliteFull = 13;
    private const int SqliteCantOpen = 14;
    private const int SqliteNotADatabase = 26;
}

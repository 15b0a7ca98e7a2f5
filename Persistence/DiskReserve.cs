using Microsoft.Extensions.Options;

namespace ThumbnailApi.Persistence;

/// <summary>
/// Free space kept in the data folder's file system (<see cref="ServiceOptions.MinFreeDiskBytes"/>),
/// for what must still be written when uploads are many: the SQLite write-ahead log and its
/// checkpoints, the thumbnails of queued tasks, and the rest of the machine. Uploads are refused
/// while one of its declared size would leave less, before any of its body is read, instead of
/// finding out when a write fails.
/// </summary>
public sealed class DiskReserve(TaskFiles files, IOptions<ServiceOptions> options)
{
    public long ReserveBytes { get; } = options.Value.MinFreeDiskBytes;

    /// <summary>
    /// True when <paramref name="declaredBytes"/> (the request's Content-Length; 0 when unknown) still
    /// leave the reserve free, or the check is off. False when the free space cannot be measured
    /// (the folder is gone): storage is not usable then either.
    /// </summary>
    public bool HasRoomFor(long declaredBytes)
    {
        if (ReserveBytes == 0)
        {
            return true;
        }

        try
        {
            return files.AvailableBytes() - declaredBytes >= ReserveBytes;
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            return false;
        }
    }
}

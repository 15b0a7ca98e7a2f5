namespace ThumbnailApi.Imaging;

/// <summary>
/// The image needs more memory than the caller reserved for it (<see cref="IThumbnailer.Create"/>),
/// though no more than the limit: reserve <see cref="NeededBytes"/> and call again. Nothing was decoded.
/// </summary>
public sealed class MemoryShortfallException(long neededBytes, long reservedBytes)
    : Exception($"The image needs {neededBytes:N0} bytes to decode; {reservedBytes:N0} were reserved.")
{
    public long NeededBytes { get; } = neededBytes;
}

namespace ThumbnailApi.Imaging;

/// <summary>Encoded image in, encoded thumbnail out. The seam the worker depends on.</summary>
public interface IThumbnailer
{
    /// <summary>
    /// Makes the thumbnail. Takes ownership of <paramref name="input"/> (seekable, at its start).
    /// <paramref name="reservedBytes"/> is the memory the caller set aside for it (see
    /// <see cref="ImageInspection.MemoryBytes"/>); the work stops soon after <paramref name="cancellation"/> fires.
    /// </summary>
    /// <exception cref="ImageRejectedException">The image is unsupported, damaged or over a limit.</exception>
    /// <exception cref="MemoryShortfallException">The image needs more than <paramref name="reservedBytes"/>; nothing was decoded.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> fired.</exception>
    EncodedThumbnail Create(Stream input, ThumbnailSpec spec, long reservedBytes = long.MaxValue, CancellationToken cancellation = default);
}

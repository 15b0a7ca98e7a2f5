namespace ThumbnailApi.Imaging;

/// <summary>Encoded image in, encoded thumbnail out. The seam the worker depends on.</summary>
public interface IThumbnailer
{
    /// <summary>Makes the thumbnail. Takes ownership of <paramref name="input"/> (seekable, at its start).</summary>
    /// <exception cref="ImageRejectedException">The image is unsupported, damaged or over a limit.</exception>
    EncodedThumbnail Create(Stream input, ThumbnailSpec spec, CancellationToken cancellation = default);
}

namespace ThumbnailApi.Imaging;

/// <summary>The pipeline's result: encoded bytes and what they are.</summary>
public sealed record EncodedThumbnail(byte[] Bytes, int Width, int Height, string ContentType);

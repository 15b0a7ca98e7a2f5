namespace ThumbnailApi.Imaging;

/// <summary>
/// What the header probe learned before anything was decoded: the header, and the memory making the
/// requested thumbnail will need at most (<see cref="SourceImage.MemoryBytes"/>).
/// </summary>
public sealed record ImageInspection(ImageHeader Header, long MemoryBytes);

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// Makes a folder unusable by putting a plain file where it was (which stops root too, unlike
/// permissions), and puts an empty folder back on dispose: storage failing and coming back.
/// </summary>
public sealed class BlockedFolder : IDisposable
{
    private readonly string _path;

    public BlockedFolder(string path)
    {
        _path = path;
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }

        File.WriteAllText(path, "not a folder");
    }

    public void Dispose()
    {
        File.Delete(_path);
        Directory.CreateDirectory(_path);
    }
}

namespace ThumbnailApi.Tests.Support;

/// <summary>The committed sample images (copied next to the test assembly).</summary>
public static class TestImages
{
    public static string Folder { get; } = System.IO.Path.Combine(AppContext.BaseDirectory, "test_images");

    public static string Path(string relative) => System.IO.Path.Combine(Folder, relative);

    public static byte[] Bytes(string relative) => File.ReadAllBytes(Path(relative));
}

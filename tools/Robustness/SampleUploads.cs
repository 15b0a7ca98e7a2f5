namespace ThumbnailApi.Robustness;

/// <summary>The valid photos of test_images/ that load runs upload, in turn.</summary>
public sealed class SampleUploads(string imagesFolder)
{
    private static readonly string[] Files =
        ["photo.jpg", "photo-progressive.jpg", "alpha.png", "photo.tif", "photo.bmp", "photo.gif", "photo.webp", "quadrants.png"];

    private readonly (string Name, byte[] Bytes)[] _samples =
        Files.Select(name => (name, File.ReadAllBytes(Path.Combine(imagesFolder, name)))).ToArray();

    public (string Name, byte[] Bytes) this[int index] => _samples[index % _samples.Length];
}

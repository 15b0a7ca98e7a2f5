using System.Collections.Concurrent;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// Watches a data folder whose instance keeps its blobs in a bucket: every file created (or renamed
/// into place) anywhere but in its scratch folder is remembered, however briefly it lived, so a test
/// can tell that no upload or thumbnail was ever written there. Scratch files (uploads being received,
/// copies for the decoders) are allowed while they are in use; <see cref="FilesInScratch"/> lists those left.
/// </summary>
public sealed class DataFolderWatch : IDisposable
{
    private readonly string _folder;
    private readonly string _scratch;
    private readonly FileSystemWatcher _watcher;
    private readonly ConcurrentQueue<string> _outsideScratch = new();

    public DataFolderWatch(string folder)
    {
        _folder = Path.GetFullPath(folder);
        _scratch = Path.Combine(_folder, "scratch");
        _watcher = new FileSystemWatcher(_folder) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName };
        _watcher.Created += (_, change) => Record(change.FullPath);
        _watcher.Renamed += (_, change) => Record(change.FullPath);
        _watcher.EnableRaisingEvents = true;
    }

    /// <summary>Paths (relative to the data folder) created outside the scratch folder, other than the scratch folder itself.</summary>
    public IReadOnlyList<string> CreatedOutsideScratch => [.. _outsideScratch];

    /// <summary>Files now in the scratch folder (relative to the data folder).</summary>
    public IReadOnlyList<string> FilesInScratch() => Directory.Exists(_scratch)
        ? Directory.GetFiles(_scratch, "*", SearchOption.AllDirectories).Select(file => Path.GetRelativePath(_folder, file)).ToList()
        : [];

    public void Dispose() => _watcher.Dispose();

    private void Record(string path)
    {
        if (path != _scratch && !path.StartsWith(_scratch + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            _outsideScratch.Enqueue(Path.GetRelativePath(_folder, path));
        }
    }
}

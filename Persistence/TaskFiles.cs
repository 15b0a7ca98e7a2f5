namespace ThumbnailApi.Persistence;

/// <summary>
/// The files of a task under the data folder: <c>uploads/{id}</c> until it is processed and
/// <c>thumbnails/{id}.{lease token}.{ext}</c> after (tasks finished before leases existed:
/// <c>thumbnails/{id}.{ext}</c>). The lease token in the name means a worker that lost its claim, and
/// whose result is fenced out, can only ever write or delete its own file, never the one the new
/// owner made. Paths are built from validated ids and tokens only, never from user input.
/// </summary>
public sealed class TaskFiles
{
    private const string PartialSuffix = ".partial";
    private static readonly string[] ThumbnailExtensions = ["png", "jpg", "webp"];

    /// <summary>Creates the folders if it can; if storage is unusable now, start-up recovery creates them later (<see cref="EnsureFolders"/>).</summary>
    public TaskFiles(string dataPath)
    {
        Uploads = Path.GetFullPath(Path.Combine(dataPath, "uploads"));
        Thumbnails = Path.GetFullPath(Path.Combine(dataPath, "thumbnails"));
        try
        {
            EnsureFolders();
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            // Not fatal here: the service starts, answers 503 and retries recovery until storage works.
        }
    }

    public string Uploads { get; }

    public string Thumbnails { get; }

    /// <summary>A new, empty upload file for streaming the request body into.</summary>
    public FileStream CreateUpload(string id) =>
        new(UploadPath(id), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 0, FileOptions.Asynchronous);

    public FileStream OpenUpload(string id) =>
        new(UploadPath(id), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.SequentialScan);

    public void DeleteUpload(string id) => File.Delete(UploadPath(id));

    /// <summary>Deletes the upload if storage allows; false when it could not (the file is then an orphan, removed at the next start).</summary>
    public bool TryDeleteUpload(string id)
    {
        try
        {
            DeleteUpload(id);
            return true;
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            return false;
        }
    }

    /// <summary>Creates the uploads and thumbnails folders (once storage can be written).</summary>
    public void EnsureFolders()
    {
        Directory.CreateDirectory(Uploads);
        Directory.CreateDirectory(Thumbnails);
    }

    /// <summary>
    /// Writes the thumbnail to a temporary name and renames it, so a reader never sees half a file.
    /// When the write fails (disk full), the half-written temporary file is removed.
    /// </summary>
    public void SaveThumbnail(string id, string? leaseToken, string extension, byte[] bytes)
    {
        var path = ThumbnailPath(id, leaseToken, extension);
        var partial = path + PartialSuffix;
        try
        {
            using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 0))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            File.Move(partial, path, overwrite: true);
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            TryDelete(partial);
            throw;
        }
    }

    public FileStream OpenThumbnail(string id, string? leaseToken, string extension) =>
        new(ThumbnailPath(id, leaseToken, extension), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 0, FileOptions.Asynchronous);

    public void DeleteThumbnail(string id, string? leaseToken, string extension) => File.Delete(ThumbnailPath(id, leaseToken, extension));

    /// <summary>A finished thumbnail's bytes, or null when it is gone (deleted or expired meanwhile).</summary>
    public byte[]? ReadThumbnail(string id, string? leaseToken, string extension)
    {
        try
        {
            return File.ReadAllBytes(ThumbnailPath(id, leaseToken, extension));
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Proves the data folder takes writes now: in each of its folders, creates a small file,
    /// writes and flushes it to disk, and deletes it. Throws the IOException (disk full, read-only)
    /// or UnauthorizedAccessException the first failing step raised.
    /// </summary>
    public void ProbeWritable()
    {
        foreach (var folder in (string[])[Uploads, Thumbnails])
        {
            var probe = Path.Combine(folder, $".write-probe-{Guid.NewGuid():N}");
            try
            {
                using var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0);
                stream.Write(new byte[512]);
                stream.Flush(flushToDisk: true);
            }
            finally
            {
                File.Delete(probe);
            }
        }
    }

    /// <summary>Deletes what a (deleted or expired) task has on disk: its upload and its thumbnail. Files of claims it lost are the sweep's.</summary>
    public void DeleteTaskFiles(TaskRecord task)
    {
        DeleteUpload(task.Id);
        foreach (var extension in ThumbnailExtensions)
        {
            DeleteThumbnail(task.Id, task.LeaseToken, extension);
        }
    }

    /// <summary>Every upload, thumbnail and half-written thumbnail named by a task id, with its lease token and last write time.</summary>
    public IEnumerable<TaskFile> EnumerateTaskFiles()
    {
        foreach (var file in new DirectoryInfo(Uploads).EnumerateFiles())
        {
            if (TaskId.TryParse(file.Name, out var id) && id == file.Name)
            {
                yield return new TaskFile(id, null, TaskFileKind.Upload, file.FullName, file.LastWriteTimeUtc);
            }
        }

        foreach (var file in new DirectoryInfo(Thumbnails).EnumerateFiles())
        {
            var partial = file.Name.EndsWith(PartialSuffix, StringComparison.Ordinal);
            var parts = file.Name.Split('.');
            if (TaskId.TryParse(parts[0], out var id) && id == parts[0])
            {
                var token = parts.Length >= 3 && IsToken(parts[1]) ? parts[1] : null;
                yield return new TaskFile(id, token, partial ? TaskFileKind.PartialThumbnail : TaskFileKind.Thumbnail, file.FullName, file.LastWriteTimeUtc);
            }
        }
    }

    /// <summary>Deletes a file found by <see cref="EnumerateTaskFiles"/>.</summary>
    public static void Delete(TaskFile file) => File.Delete(file.Path);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            // Left for the start-up clean-up, which removes every *.partial file.
        }
    }

    /// <summary>Bytes free for the service on the data folder's file system.</summary>
    public long AvailableBytes() => new DriveInfo(Uploads).AvailableFreeSpace;

    public static string ExtensionFor(string contentType) => contentType switch
    {
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        _ => "png",
    };

    private string UploadPath(string id) => Path.Combine(Uploads, Checked(id));

    private string ThumbnailPath(string id, string? leaseToken, string extension) => Path.Combine(Thumbnails, leaseToken is null
        ? $"{Checked(id)}.{extension}"
        : IsToken(leaseToken) ? $"{Checked(id)}.{leaseToken}.{extension}" : throw new ArgumentException("Not a lease token.", nameof(leaseToken)));

    private static bool IsToken(string text) => text.Length is > 0 and <= 32 && text.All(char.IsAsciiHexDigitLower);

    private static string Checked(string id) =>
        TaskId.TryParse(id, out var valid) && valid == id ? id : throw new ArgumentException("Not a task id.", nameof(id));
}

public enum TaskFileKind
{
    Upload,
    Thumbnail,
    PartialThumbnail,
}

/// <summary>A file in the data folder that belongs to a task (by its name), and the claim that wrote it (thumbnails).</summary>
public sealed record TaskFile(string TaskId, string? LeaseToken, TaskFileKind Kind, string Path, DateTime LastWriteUtc);

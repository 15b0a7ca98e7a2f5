namespace ThumbnailApi.Blobs;

/// <summary>
/// The keys the service stores bytes under. Built from validated task ids and hex digests only,
/// never from user input: <c>uploads/{task id}</c> while a task waits for a worker, and
/// <c>thumbnails/{sha256}.{ext}</c> for thumbnails, stored once per content and shared by every task
/// whose thumbnail has those bytes.
/// </summary>
public static class BlobKeys
{
    public const string Uploads = "uploads/";
    public const string Thumbnails = "thumbnails/";

    public static string Upload(string taskId) =>
        Persistence.TaskId.TryParse(taskId, out var id) && id == taskId ? Uploads + id : throw new ArgumentException("Not a task id.", nameof(taskId));

    public static string Thumbnail(string sha256Hex, string extension) =>
        sha256Hex.Length == 64 && sha256Hex.All(char.IsAsciiHexDigitLower) && extension is "png" or "jpg" or "webp"
            ? $"{Thumbnails}{sha256Hex}.{extension}"
            : throw new ArgumentException("Not a thumbnail digest and extension.");

    /// <summary>True for a content key: <c>thumbnails/{64 hex digits}.{png|jpg|webp}</c>.</summary>
    public static bool IsContentThumbnail(string key)
    {
        if (!key.StartsWith(Thumbnails, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = key[Thumbnails.Length..].Split('.');
        return parts is [var digest, "png" or "jpg" or "webp"] && digest.Length == 64 && digest.All(char.IsAsciiHexDigitLower);
    }

    /// <summary>The task id of an upload key, or null.</summary>
    public static string? TaskOfUpload(string key) =>
        key.StartsWith(Uploads, StringComparison.Ordinal) && Persistence.TaskId.TryParse(key[Uploads.Length..], out var id) && id == key[Uploads.Length..]
            ? id
            : null;

    /// <summary>True for a key this service writes: letters, digits, '/', '.', '-' and '_' only, no empty or dot segment.</summary>
    public static bool IsValid(string key) =>
        key.Length is > 0 and <= 512
        && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '-' or '_')
        && key.Split('/').All(segment => segment.Length > 0 && segment is not ("." or ".."));
}

using System.Security.Cryptography;
using System.Text;
using ThumbnailApi.Imaging;

namespace ThumbnailApi.Endpoints;

/// <summary>
/// The optional <c>Idempotency-Key</c> header of an upload. A retry with the same key within
/// <see cref="Window"/> gets the same task (202, same body) instead of a second one; the same key with
/// another image or other options is refused. "Same" is decided by a SHA-256 of the image bytes,
/// taken while they stream to disk, and of the parsed options.
/// </summary>
public static class IdempotentUpload
{
    public const string Header = "Idempotency-Key";

    /// <summary>Set on the answer to a retry that returned an existing task.</summary>
    public const string ReplayedHeader = "Idempotent-Replayed";

    public const int MaxKeyLength = 255;

    public static readonly TimeSpan Window = TimeSpan.FromHours(24);

    /// <summary>The key, or null when the header is absent; an error when it is empty, repeated, too long or not printable ASCII.</summary>
    public static (string? Key, JsonHttpResult<ApiError>? Error) ReadKey(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(Header, out var values))
        {
            return (null, null);
        }

        return values is [{ Length: > 0 and <= MaxKeyLength } key] && key.All(c => c is >= '!' and <= '~')
            ? (key, null)
            : (null, ApiErrors.InvalidOption(Header,
                $"{Header} must be one value of 1 to {MaxKeyLength} printable ASCII characters without spaces, such as a UUID."));
    }

    /// <summary>Keys of tasks created before this moment (Unix ms) no longer count.</summary>
    public static long KeysValidSince(TimeProvider clock) => (clock.GetUtcNow() - Window).ToUnixTimeMilliseconds();

    /// <summary>What a retry must match: the image's SHA-256 and the options it asked for.</summary>
    public static string RequestHash(byte[] imageSha256, ThumbnailSpec spec)
    {
        // Quality is appended only when given, so a request without it fingerprints as it did before quality existed.
        var options = Encoding.UTF8.GetBytes($"{spec.Width}x{spec.Height};{spec.Fit.Name()};{spec.Format.Name()}{(spec.Quality is { } quality ? $";q{quality}" : "")}");
        return Convert.ToHexStringLower(SHA256.HashData([.. imageSha256, .. options]));
    }

    /// <summary>The 202 of a retry: the same body and Location as the first answer, marked as a replay.</summary>
    public static Accepted<UploadAccepted> Replay(HttpContext context, string taskId)
    {
        context.Response.Headers[ReplayedHeader] = "true";
        return TypedResults.Accepted($"{ThumbnailEndpoints.Prefix}/{taskId}", TaskResponses.Accepted(context.Request, taskId));
    }
}

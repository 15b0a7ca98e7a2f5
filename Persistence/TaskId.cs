using System.Security.Cryptography;

namespace ThumbnailApi.Persistence;

/// <summary>Task ids: 128 random bits as 32 lowercase hex digits. Opaque, unguessable, and safe in a file name.</summary>
public static class TaskId
{
    private const int Length = 32;

    public static string New() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(Length / 2));

    /// <summary>Accepts an id in any letter case; anything else is not an id.</summary>
    public static bool TryParse(string? raw, out string id)
    {
        id = "";
        if (raw is not { Length: Length } || !raw.All(char.IsAsciiHexDigit))
        {
            return false;
        }

        id = raw.ToLowerInvariant();
        return true;
    }
}

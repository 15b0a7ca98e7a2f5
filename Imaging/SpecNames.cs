namespace ThumbnailApi.Imaging;

/// <summary>The words clients use for fit modes and output formats, as accepted by the API and stored with a task.</summary>
public static class SpecNames
{
    public static readonly IReadOnlyList<string> Fits = ["cover", "contain", "inside", "fill"];

    public static readonly IReadOnlyList<string> Formats = ["auto", "png", "jpeg", "webp"];

    public static string Name(this FitMode fit) => Fits[(int)fit];

    public static string Name(this OutputFormat format) => Formats[(int)format];

    public static bool TryParseFit(string? text, out FitMode fit) => TryParse(Fits, text, out fit);

    /// <summary>Also accepts "jpg" for JPEG.</summary>
    public static bool TryParseFormat(string? text, out OutputFormat format) =>
        TryParse(Formats, string.Equals(text, "jpg", StringComparison.OrdinalIgnoreCase) ? "jpeg" : text, out format);

    private static bool TryParse<T>(IReadOnlyList<string> names, string? text, out T value)
        where T : struct, Enum
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], text?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                value = (T)(object)i;
                return true;
            }
        }

        value = default;
        return false;
    }
}

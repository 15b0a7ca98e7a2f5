using System.Globalization;
using ThumbnailApi.Imaging;

namespace ThumbnailApi.Endpoints;

/// <summary>Reads width, height, fit, format and quality from the form fields or the query string (a form field wins).</summary>
public static class UploadOptions
{
    public static (ThumbnailSpec? Spec, JsonHttpResult<ApiError>? Error) Parse(IQueryCollection query, IReadOnlyDictionary<string, string> fields)
    {
        string? Value(string name) => fields.TryGetValue(name, out var field) ? field : query.TryGetValue(name, out var value) ? value.ToString() : null;

        var spec = ThumbnailSpec.Default;
        if (Value("width") is { } width)
        {
            if (!TryParseSide(width, out var pixels))
            {
                return (null, SideError("width"));
            }

            spec = spec with { Width = pixels };
        }

        if (Value("height") is { } height)
        {
            if (!TryParseSide(height, out var pixels))
            {
                return (null, SideError("height"));
            }

            spec = spec with { Height = pixels };
        }

        if (Value("fit") is { } fitText)
        {
            if (!SpecNames.TryParseFit(fitText, out var fit))
            {
                return (null, ApiErrors.InvalidOption("fit", $"fit must be one of: {string.Join(", ", SpecNames.Fits)}."));
            }

            spec = spec with { Fit = fit };
        }

        if (Value("format") is { } formatText)
        {
            if (!SpecNames.TryParseFormat(formatText, out var format))
            {
                return (null, ApiErrors.InvalidOption("format", $"format must be one of: {string.Join(", ", SpecNames.Formats)}."));
            }

            spec = spec with { Format = format };
        }

        if (Value("quality") is { } qualityText)
        {
            if (!int.TryParse(qualityText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var quality)
                || quality is < ThumbnailSpec.MinQuality or > ThumbnailSpec.MaxQuality)
            {
                return (null, ApiErrors.InvalidOption("quality",
                    $"quality must be a whole number from {ThumbnailSpec.MinQuality} to {ThumbnailSpec.MaxQuality} (JPEG and WebP output; PNG ignores it)."));
            }

            spec = spec with { Quality = quality };
        }

        return (spec, null);
    }

    private static bool TryParseSide(string text, out int pixels) =>
        int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out pixels) && pixels is >= 1 and <= ThumbnailSpec.MaxSide;

    private static JsonHttpResult<ApiError> SideError(string field) =>
        ApiErrors.InvalidOption(field, $"{field} must be a whole number of pixels from 1 to {ThumbnailSpec.MaxSide}.");
}

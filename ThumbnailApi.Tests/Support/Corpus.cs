using System.Text.Json;
using SkiaSharp;

namespace ThumbnailApi.Tests.Support;

/// <summary>One file of test_images/manifest.json: what it is and what the thumbnailer must do with it.</summary>
public sealed record CorpusEntry(
    string File,
    string Kind,
    IReadOnlyList<string> Codes,
    IReadOnlyDictionary<string, SKColor>? Quadrants,
    IReadOnlyDictionary<string, bool>? Bilevel,
    int Tolerance,
    (int Width, int Height)? Display,
    int? CornerAlpha,
    string? Reference,
    string? SamePixelsAs)
{
    public override string ToString() => File;
}

/// <summary>The committed corpus as described by test_images/manifest.json (written by make_test_images.py).</summary>
public static class Corpus
{
    /// <summary>Where the manifest samples colours: fractions of the displayed width and height.</summary>
    public static readonly IReadOnlyDictionary<string, (double X, double Y)> SamplePoints = new Dictionary<string, (double, double)>
    {
        ["TL"] = (0.25, 0.25), ["TR"] = (0.75, 0.25), ["BL"] = (0.25, 0.75), ["BR"] = (0.75, 0.75),
    };

    public static IReadOnlyList<CorpusEntry> Entries { get; } = Load();

    /// <summary>Files that must become a thumbnail whose sample points have known colours.</summary>
    public static IEnumerable<CorpusEntry> WithKnownColours =>
        Entries.Where(e => e.Kind == "decode" && (e.Quadrants is not null || e.Bilevel is not null));

    public static IEnumerable<CorpusEntry> OfKind(string kind) => Entries.Where(e => e.Kind == kind);

    private static List<CorpusEntry> Load()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(TestImages.Path("manifest.json")));
        var entries = new List<CorpusEntry>();
        foreach (var file in document.RootElement.GetProperty("files").EnumerateObject())
        {
            var e = file.Value;
            entries.Add(new CorpusEntry(
                file.Name,
                e.GetProperty("kind").GetString()!,
                e.TryGetProperty("codes", out var codes) ? codes.EnumerateArray().Select(c => c.GetString()!).ToList() : [],
                QuadrantsOf(e),
                e.TryGetProperty("bilevel", out var bilevel)
                    ? bilevel.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() == "black")
                    : null,
                e.TryGetProperty("tolerance", out var tolerance) ? tolerance.GetInt32() : 4,
                e.TryGetProperty("display", out var display) ? (display[0].GetInt32(), display[1].GetInt32()) : null,
                e.TryGetProperty("corner_alpha", out var corner) ? corner.GetInt32() : null,
                e.TryGetProperty("ref", out var reference) ? reference.GetString() : null,
                e.TryGetProperty("same_pixels_as", out var same) ? same.GetString() : null));
        }

        return entries;
    }

    private static Dictionary<string, SKColor>? QuadrantsOf(JsonElement e)
    {
        if (e.TryGetProperty("quadrants", out var quadrants))
        {
            return quadrants.EnumerateObject().ToDictionary(
                p => p.Name, p => new SKColor((byte)p.Value[0].GetInt32(), (byte)p.Value[1].GetInt32(), (byte)p.Value[2].GetInt32()));
        }

        if (e.TryGetProperty("grey", out var grey))
        {
            return grey.EnumerateObject().ToDictionary(p => p.Name, p => new SKColor((byte)p.Value.GetInt32(), (byte)p.Value.GetInt32(), (byte)p.Value.GetInt32()));
        }

        return null;
    }
}

using SkiaSharp;

namespace ThumbnailApi.Tests.Support;

/// <summary>Checks on thumbnails of the four-quadrant pictures (red, green / blue, yellow).</summary>
public static class Quadrants
{
    public static readonly IReadOnlyDictionary<string, SKColor> Upright = new Dictionary<string, SKColor>
    {
        ["TL"] = new(255, 0, 0), ["TR"] = new(0, 255, 0), ["BL"] = new(0, 0, 255), ["BR"] = new(255, 255, 0),
    };

    /// <summary>Asserts the colour at 25 % / 75 % of the width and height of <paramref name="thumbnail"/>.</summary>
    public static void AssertShown(SKBitmap thumbnail, IReadOnlyDictionary<string, SKColor> expected, int tolerance, string context = "")
    {
        var measured = Corpus.SamplePoints.ToDictionary(p => p.Key, p => Thumbnails.Sample(thumbnail, p.Value.X, p.Value.Y));
        var report = string.Join(" ", measured.Select(m => $"{m.Key}({m.Value.Red},{m.Value.Green},{m.Value.Blue},a{m.Value.Alpha})"));
        Assert.Multiple(() =>
        {
            foreach (var (corner, colour) in expected)
            {
                Assert.That(Pixels.IsClose(measured[corner], colour, tolerance), Is.True,
                    $"{context} {corner}: expected {colour} ±{tolerance}; measured {report}");
            }
        });
    }
}

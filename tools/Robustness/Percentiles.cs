using System.Globalization;

namespace ThumbnailApi.Robustness;

/// <summary>Nearest-rank percentiles of a sample, and the way the scale-out report prints them.</summary>
public static class Percentiles
{
    public static double Of(IReadOnlyCollection<double> values, double percent)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    /// <summary>"p50 7 ms, p99 21 ms (n 50, max 23 ms)".</summary>
    public static string Describe(IReadOnlyCollection<double> values, string unit = "ms", string format = "F0") => values.Count == 0
        ? "no sample"
        : string.Create(CultureInfo.InvariantCulture,
            $"p50 {Of(values, 50).ToString(format, CultureInfo.InvariantCulture)} {unit}, p99 {Of(values, 99).ToString(format, CultureInfo.InvariantCulture)} {unit} (n {values.Count}, max {values.Max().ToString(format, CultureInfo.InvariantCulture)} {unit})");
}

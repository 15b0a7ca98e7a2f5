using System.Globalization;
using System.Text.RegularExpressions;

namespace ThumbnailApi.Tests.Support;

/// <summary>A scrape of /metrics: sample values by metric name and labels (the otel_scope_* labels ignored).</summary>
public sealed partial class PrometheusText
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];

    public PrometheusText(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var match = Sample().Match(line);
            Assert.That(match.Success, Is.True, $"Not a Prometheus sample line: {line}");
            var labels = Label().Matches(match.Groups["labels"].Value)
                .Where(label => !label.Groups["name"].Value.StartsWith("otel_scope_", StringComparison.Ordinal))
                .ToDictionary(label => label.Groups["name"].Value, label => label.Groups["value"].Value);
            _samples.Add((match.Groups["name"].Value, labels, double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }
    }

    public bool Has(string name) => _samples.Any(sample => sample.Name == name);

    /// <summary>The sum over samples of <paramref name="name"/> that carry all the given labels (0 when none do).</summary>
    public double Value(string name, params (string Name, string Value)[] labels) =>
        _samples.Where(sample => sample.Name == name
                                 && labels.All(label => sample.Labels.TryGetValue(label.Name, out var value) && value == label.Value))
            .Sum(sample => sample.Value);

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?$")]
    private static partial Regex Sample();

    [GeneratedRegex(@"(?<name>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}

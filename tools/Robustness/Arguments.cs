using System.Globalization;

namespace ThumbnailApi.Robustness;

/// <summary>"--name value" pairs from the command line.</summary>
public sealed class Arguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);

    public static Arguments Parse(IEnumerable<string> args)
    {
        var parsed = new Arguments();
        string? name = null;
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                name = arg[2..];
                parsed._values[name] = "";
            }
            else if (name is not null)
            {
                parsed._values[name] = arg;
                name = null;
            }
        }

        return parsed;
    }

    public string Text(string name, string? fallback = null) =>
        _values.TryGetValue(name, out var value) && value != "" ? value
        : fallback ?? throw new ArgumentException($"--{name} is required");

    public int Number(string name, int fallback) =>
        _values.TryGetValue(name, out var value) && value != "" ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;
}

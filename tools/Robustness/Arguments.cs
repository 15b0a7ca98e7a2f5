using System.Globalization;

namespace ThumbnailApi.Robustness;

/// <summary>"--name value" pairs from the command line; "--flag" alone; a name may be repeated.</summary>
public sealed class Arguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<(string Name, string Value)> _all = [];

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
                parsed._all.Add((name, arg));
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

    public double Decimal(string name, double fallback) =>
        _values.TryGetValue(name, out var value) && value != "" ? double.Parse(value, CultureInfo.InvariantCulture) : fallback;

    /// <summary>Whether --name was given, with or without a value.</summary>
    public bool Flag(string name) => _values.ContainsKey(name);

    /// <summary>Every value of a repeated --name, in order.</summary>
    public IReadOnlyList<string> All(string name) =>
        _all.Where(pair => string.Equals(pair.Name, name, StringComparison.OrdinalIgnoreCase)).Select(pair => pair.Value).ToList();
}

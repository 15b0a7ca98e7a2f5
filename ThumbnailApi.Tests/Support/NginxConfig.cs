using System.Text.RegularExpressions;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// The committed nginx.conf made runnable on this machine: the lines between "# upstream servers: begin"
/// and "# upstream servers: end" become the given upstream addresses, the line marked "# listen" listens
/// on a loopback port, and the temp folders (compiled into Debian's nginx under /var/lib/nginx) move into
/// the test's folder, inserted right after "http {". Every other line is kept as it is.
/// </summary>
public static partial class NginxConfig
{
    public const string UpstreamBegin = "# upstream servers: begin";
    public const string UpstreamEnd = "# upstream servers: end";

    public static string Committed => File.ReadAllText(RepositoryFiles.Path("nginx.conf"));

    public static string ForTest(string committed, IReadOnlyList<string> upstreams, int port, string folder)
    {
        var lines = committed.Split('\n').ToList();
        var begin = Single(lines, line => line.Trim() == UpstreamBegin, UpstreamBegin);
        var end = Single(lines, line => line.Trim() == UpstreamEnd, UpstreamEnd);
        if (end <= begin || upstreams.Count == 0)
        {
            throw new InvalidOperationException("nginx.conf: the upstream servers' end marker must follow the begin marker, and the test must give at least one upstream.");
        }

        var indent = Indent(lines[begin]);
        lines.RemoveRange(begin + 1, end - begin - 1);
        lines.InsertRange(begin + 1, upstreams.Select(address => $"{indent}server {address};"));

        var listen = Single(lines, line => ListenLine().IsMatch(line), "listen …; # listen");
        lines[listen] = $"{Indent(lines[listen])}listen 127.0.0.1:{port}; # listen";

        var http = Single(lines, line => line.Trim() == "http {", "http {");
        lines.InsertRange(http + 1, ((string[])["client_body", "proxy", "fastcgi", "uwsgi", "scgi"])
            .Select(kind => $"    {kind}_temp_path {Path.Combine(folder, kind)};"));
        return string.Join('\n', lines);
    }

    private static int Single(List<string> lines, Func<string, bool> match, string what)
    {
        var found = lines.Select((line, index) => (line, index)).Where(pair => match(pair.line)).ToList();
        return found.Count == 1
            ? found[0].index
            : throw new InvalidOperationException($"nginx.conf must have exactly one line \"{what}\" (the tests rewrite it), found {found.Count}.");
    }

    private static string Indent(string line) => line[..(line.Length - line.TrimStart().Length)];

    [GeneratedRegex(@"^\s*listen\s+[^;]+;\s*# listen\s*$")]
    private static partial Regex ListenLine();
}

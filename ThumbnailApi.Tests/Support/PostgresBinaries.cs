using System.ComponentModel;
using System.Globalization;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// The folder of the PostgreSQL server programs (initdb, pg_ctl, postgres): what <c>pg_config --bindir</c>
/// names, else the highest version under /usr/lib/postgresql/*/bin (Debian installs them there, off the PATH).
/// </summary>
public static class PostgresBinaries
{
    private static readonly Lazy<string?> Folder = new(Search);

    /// <summary>The folder, or null when no PostgreSQL server is installed.</summary>
    public static string? Find() => Folder.Value;

    private static string? Search() => FromPgConfig() is { } named && HasServer(named) ? named : HighestDebianVersion();

    private static string? FromPgConfig()
    {
        try
        {
            var (exitCode, output) = ExternalCommand.RunAsync("pg_config", ["--bindir"], TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
            return exitCode == 0 ? output.Trim() : null;
        }
        catch (Win32Exception)
        {
            return null; // no pg_config on the PATH
        }
    }

    private static string? HighestDebianVersion()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }

        return Directory.GetDirectories(root)
            .Select(folder => (Version: decimal.TryParse(Path.GetFileName(folder), CultureInfo.InvariantCulture, out var version) ? version : -1, Bin: Path.Combine(folder, "bin")))
            .Where(candidate => candidate.Version >= 0 && HasServer(candidate.Bin))
            .OrderByDescending(candidate => candidate.Version)
            .Select(candidate => candidate.Bin)
            .FirstOrDefault();
    }

    private static bool HasServer(string folder) =>
        File.Exists(Path.Combine(folder, "initdb")) && File.Exists(Path.Combine(folder, "pg_ctl")) && File.Exists(Path.Combine(folder, "postgres"));
}

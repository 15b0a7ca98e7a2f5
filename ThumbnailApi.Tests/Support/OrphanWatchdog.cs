using System.Diagnostics;
using System.Globalization;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// Makes sure a server started by the tests dies with the test process: a small shell loop, detached from
/// the test process (setsid --fork, so a kill of the test process tree does not reach it), that waits
/// while the test process lives and <paramref name="marker"/> exists. If the test process goes first, it
/// runs the stop command and removes the server's folder; if the tests stopped the server and removed the
/// marker themselves, it just ends.
/// </summary>
public static class OrphanWatchdog
{
    private const string Script = """
        exec </dev/null >/dev/null 2>&1
        host=$1 marker=$2 folder=$3
        shift 3
        while [ -d "/proc/$host" ] && [ -e "$marker" ]; do sleep 1; done
        if [ -e "$marker" ]; then
          "$@"
          rm -rf "$folder"
        fi
        """;

    public static void Start(string marker, string folder, IEnumerable<string> stopCommand)
    {
        var start = new ProcessStartInfo("setsid")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] arguments = ["--fork", "sh", "-c", Script, "test-server-watchdog", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), marker, folder, .. stopCommand];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var setsid = Process.Start(start)!;
        if (!setsid.WaitForExit(10_000) || setsid.ExitCode != 0)
        {
            throw new InvalidOperationException("setsid --fork did not start the watchdog.");
        }
    }
}

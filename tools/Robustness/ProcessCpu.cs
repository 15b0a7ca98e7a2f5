using System.Globalization;

namespace ThumbnailApi.Robustness;

/// <summary>CPU time of processes, from /proc/PID/stat: what a process used (utime + stime), or a whole server's tree.</summary>
public static class ProcessCpu
{
    /// <summary>CPU-seconds the process has used so far, in user and kernel mode.</summary>
    public static double Seconds(int pid) => Fields(pid) is { } fields ? (Ticks(fields, 11) + Ticks(fields, 12)) / ProcessMonitor.TicksPerSecond : 0;

    /// <summary>
    /// CPU-seconds of a server and its children (PostgreSQL's postmaster and its backends): its own, those
    /// of the children alive now, and those of the children it has reaped (cutime + cstime).
    /// </summary>
    public static double TreeSeconds(int pid)
    {
        if (Fields(pid) is not { } own)
        {
            return 0;
        }

        var ticks = Ticks(own, 11) + Ticks(own, 12) + Ticks(own, 13) + Ticks(own, 14);
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(folder), out var child) && Fields(child) is { } fields && Ticks(fields, 1) == pid)
            {
                ticks += Ticks(fields, 11) + Ticks(fields, 12);
            }
        }

        return ticks / ProcessMonitor.TicksPerSecond;
    }

    /// <summary>The fields after the command name (field 3, the state, is [0]); null when the process is gone.</summary>
    private static string[]? Fields(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            return text[(text.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception gone) when (gone is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long Ticks(string[] fields, int index) => long.Parse(fields[index], CultureInfo.InvariantCulture);
}

namespace ThumbnailApi.Bench;

/// <summary>Small measuring helpers shared by the benchmarks.</summary>
public static class Measure
{
    /// <summary>Peak resident set size of a process in MB (VmHWM), or null when unreadable.</summary>
    public static double? PeakRssMb(int pid = 0) => ReadStatusKb(pid, "VmHWM:") / 1024.0;

    /// <summary>Current resident set size of a process in MB (VmRSS), or null when unreadable.</summary>
    public static double? RssMb(int pid = 0) => ReadStatusKb(pid, "VmRSS:") / 1024.0;

    /// <summary>
    /// CPU time a process has used so far (user + system, from /proc/PID/stat, in clock ticks of
    /// 1/100 s), in milliseconds; null when unreadable.
    /// </summary>
    public static double? CpuMs(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // after "pid (name) ": state is field 3
            return (long.Parse(fields[11]) + long.Parse(fields[12])) * 10.0; // utime, stime (fields 14, 15)
        }
        catch (Exception problem) when (problem is IOException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        var rank = p / 100.0 * (sorted.Count - 1);
        var low = (int)Math.Floor(rank);
        var high = Math.Min(sorted.Count - 1, low + 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }

    private static long? ReadStatusKb(int pid, string key)
    {
        var path = pid == 0 ? "/proc/self/status" : $"/proc/{pid}/status";
        try
        {
            var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
            return line is null ? null : long.Parse(line[key.Length..].Trim().Split(' ')[0]);
        }
        catch (IOException)
        {
            return null;
        }
    }
}

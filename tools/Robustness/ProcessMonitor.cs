using System.Diagnostics;
using System.Globalization;

namespace ThumbnailApi.Robustness;

/// <summary>One reading of a process: when (seconds on the monitor's clock), resident memory, CPU time, busy threads.</summary>
public readonly record struct ProcessSample(double At, long RssBytes, long PeakRssBytes, double CpuSeconds, int BusyThreads);

/// <summary>
/// Watches a process through /proc on its own thread: resident memory (VmRSS, VmHWM) and CPU time
/// (utime + stime) every ~20 ms, and every second how many of its threads were busy: used at least
/// 10% of a core over that second (a low bar on purpose: on a shared, loaded machine a thread that
/// would use a whole core gets only a share of one). Optionally kills the process when it grows past
/// a ceiling, so a run on a shared machine cannot take all of its memory.
/// </summary>
public sealed class ProcessMonitor : IDisposable
{
    internal static readonly double TicksPerSecond = ClockTicks();

    private readonly int _pid;
    private readonly long _killAboveBytes;
    private readonly Stopwatch _clock;
    private readonly List<ProcessSample> _samples = [];
    private readonly Thread _thread;
    private readonly Dictionary<int, long> _threadTicks = [];
    private volatile bool _stop;
    private int _busyThreads;
    private double _lastThreadScan = double.NegativeInfinity;

    public ProcessMonitor(int pid, Stopwatch clock, long killAboveBytes)
    {
        _pid = pid;
        _clock = clock;
        _killAboveBytes = killAboveBytes;
        _thread = new Thread(Run) { IsBackground = true, Name = "process-monitor", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    /// <summary>Set when the monitor killed the process for passing the ceiling: the RSS it had then.</summary>
    public long? KilledAtBytes { get; private set; }

    public static double Seconds(Stopwatch clock) => clock.Elapsed.TotalSeconds;

    /// <summary>A copy of the samples taken from <paramref name="from"/> on (seconds on the clock).</summary>
    public List<ProcessSample> Since(double from)
    {
        lock (_samples)
        {
            return _samples.Where(s => s.At >= from).ToList();
        }
    }

    public ProcessSample? Last
    {
        get
        {
            lock (_samples)
            {
                return _samples.Count > 0 ? _samples[^1] : null;
            }
        }
    }

    /// <summary>Cores used, on average, over the last <paramref name="window"/> seconds (from CPU time).</summary>
    public double CoresOver(double window)
    {
        lock (_samples)
        {
            if (_samples.Count < 2)
            {
                return 0;
            }

            var last = _samples[^1];
            var first = _samples.FindLast(s => s.At <= last.At - window);
            if (first == default)
            {
                first = _samples[0];
            }

            return last.At > first.At ? (last.CpuSeconds - first.CpuSeconds) / (last.At - first.At) : 0;
        }
    }

    /// <summary>CPU seconds of the process at the sample nearest to <paramref name="at"/>.</summary>
    public double CpuAt(double at)
    {
        lock (_samples)
        {
            var sample = _samples.LastOrDefault(s => s.At <= at);
            return sample == default ? (_samples.Count > 0 ? _samples[0].CpuSeconds : 0) : sample.CpuSeconds;
        }
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
    }

    private void Run()
    {
        while (!_stop)
        {
            if (Read() is { } sample)
            {
                lock (_samples)
                {
                    _samples.Add(sample);
                }

                if (_killAboveBytes > 0 && sample.RssBytes > _killAboveBytes && KilledAtBytes is null)
                {
                    KilledAtBytes = sample.RssBytes;
                    try
                    {
                        Process.GetProcessById(_pid).Kill();
                    }
                    catch (Exception problem) when (problem is ArgumentException or InvalidOperationException)
                    {
                    }
                }
            }
            else
            {
                return; // the process is gone
            }

            Thread.Sleep(20);
        }
    }

    private ProcessSample? Read()
    {
        try
        {
            long rss = 0, hwm = 0;
            foreach (var line in File.ReadLines($"/proc/{_pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = Kilobytes(line);
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    hwm = Kilobytes(line);
                }
            }

            var ticks = CpuTicks($"/proc/{_pid}/stat");
            var now = Seconds(_clock);
            if (now - _lastThreadScan >= 1.0)
            {
                _busyThreads = BusyThreads(now - _lastThreadScan);
                _lastThreadScan = now;
            }

            return new ProcessSample(now, rss, hwm, ticks / TicksPerSecond, _busyThreads);
        }
        catch (Exception problem) when (problem is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Threads that used at least 10% of the interval since the last scan on a core.</summary>
    private int BusyThreads(double interval)
    {
        var busy = 0;
        var seen = new HashSet<int>();
        foreach (var folder in Directory.EnumerateDirectories($"/proc/{_pid}/task"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out var tid))
            {
                continue;
            }

            long ticks;
            try
            {
                ticks = CpuTicks(Path.Combine(folder, "stat"));
            }
            catch (IOException)
            {
                continue; // the thread ended
            }

            seen.Add(tid);
            if (_threadTicks.TryGetValue(tid, out var before) && interval < 10
                && (ticks - before) / TicksPerSecond >= 0.1 * interval)
            {
                busy++;
            }

            _threadTicks[tid] = ticks;
        }

        foreach (var gone in _threadTicks.Keys.Where(tid => !seen.Contains(tid)).ToList())
        {
            _threadTicks.Remove(gone);
        }

        return busy;
    }

    /// <summary>utime + stime of a /proc stat file (fields 14 and 15; the name in parentheses may hold spaces).</summary>
    private static long CpuTicks(string statFile)
    {
        var text = File.ReadAllText(statFile);
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;

    private static double ClockTicks()
    {
        try
        {
            using var getconf = Process.Start(new ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true })!;
            var text = getconf.StandardOutput.ReadToEnd().Trim();
            getconf.WaitForExit();
            return double.Parse(text, CultureInfo.InvariantCulture);
        }
        catch (Exception problem) when (problem is System.ComponentModel.Win32Exception or FormatException)
        {
            return 100;
        }
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// The service as a real operating-system process (<c>dotnet ThumbnailApi.dll</c>) on a free port
/// and a given data folder: what a crash, a SIGKILL or a restart needs, which an in-process host
/// cannot show. Shared by the crash tests and the long-run tools.
/// </summary>
public sealed partial class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _disposed;

    private ServiceProcess(Process process) => _process = process;

    public Uri BaseAddress { get; private set; } = null!;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the service wrote (stdout and stderr), for diagnostics.</summary>
    public string RecentOutput => string.Join(Environment.NewLine, _output);

    /// <summary>Raised for every line the service writes (stdout and stderr), on the thread that reads it.</summary>
    public event Action<string>? OutputLine;

    /// <summary>
    /// Starts the service and waits until it listens; throws (with its output) if it does not. With
    /// <paramref name="waitUntilListening"/> false it returns at once: for a start expected to crash.
    /// It runs in <paramref name="workingDirectory"/>, by default the folder of <paramref name="serviceDll"/>.
    /// </summary>
    public static async Task<ServiceProcess> StartAsync(
        string serviceDll, string dataPath, IReadOnlyDictionary<string, string>? settings = null, TimeSpan? timeout = null,
        bool waitUntilListening = true, string? workingDirectory = null)
    {
        // The same dotnet host that runs this process (tests and tools run under it), else the one on PATH.
        var host = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(serviceDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(serviceDll);
        start.ArgumentList.Add("--urls=http://127.0.0.1:0");
        start.ArgumentList.Add($"--ThumbnailApi:DataPath={dataPath}");
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";

        var service = new ServiceProcess(new Process { StartInfo = start, EnableRaisingEvents = true });
        service._process.OutputDataReceived += (_, line) => service.Record(line.Data);
        service._process.ErrorDataReceived += (_, line) => service.Record(line.Data);
        service._process.Exited += (_, _) => service._listening.TrySetException(
            new InvalidOperationException($"The service exited before it listened:{Environment.NewLine}{service.RecentOutput}"));
        service._process.Start();
        service._process.BeginOutputReadLine();
        service._process.BeginErrorReadLine();
        if (!waitUntilListening)
        {
            return service;
        }

        try
        {
            service.BaseAddress = await service._listening.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
            return service;
        }
        catch
        {
            service.Dispose();
            throw;
        }
    }

    /// <summary>SIGKILL: the process ends at once, in the middle of whatever it was doing.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.WaitForExit();
    }

    /// <summary>
    /// SIGSTOP: the process is frozen where it is (its sockets stay open, its requests wait) until
    /// <see cref="ResumeAsync"/>; a frozen process can still be killed.
    /// </summary>
    public Task PauseAsync() => SignalAsync("STOP");

    /// <summary>SIGCONT: a process frozen by <see cref="PauseAsync"/> runs on.</summary>
    public Task ResumeAsync() => SignalAsync("CONT");

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Peak resident memory of the process so far (VmHWM on Linux), in bytes; 0 where unknown.</summary>
    public long PeakResidentBytes()
    {
        var status = $"/proc/{_process.Id}/status";
        if (!File.Exists(status))
        {
            return 0;
        }

        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Kill();
        _process.Dispose();
    }

    private async Task SignalAsync(string signal)
    {
        if (!_process.HasExited)
        {
            await ExternalCommand.RunCheckedAsync("kill", [$"-{signal}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
        }
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        OutputLine?.Invoke(line);

        _output.Enqueue(line);
        while (_output.Count > 200)
        {
            _output.TryDequeue(out _);
        }

        if (ListeningLine().Match(line) is { Success: true } match)
        {
            _listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();
}

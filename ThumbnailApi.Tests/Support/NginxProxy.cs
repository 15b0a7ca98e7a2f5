using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// Debian's nginx running the committed nginx.conf in front of given upstream addresses, on a free
/// loopback port (<see cref="NginxConfig"/>), as a child process in the foreground (<c>daemon off</c>)
/// with its pid file, logs and temp folders in a temporary folder. Disposing stops it by its PID
/// (SIGTERM, then a kill of the process tree) and removes the folder; an <see cref="OrphanWatchdog"/>
/// does the same if the test process is killed.
/// </summary>
public sealed class NginxProxy : IDisposable
{
    public const string Program = "/usr/sbin/nginx";

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;
    private bool _disposed;

    private NginxProxy(Process process, ConcurrentQueue<string> output, string folder, int port)
    {
        _process = process;
        _output = output;
        Folder = folder;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
    }

    public Uri BaseAddress { get; }

    public string Folder { get; }

    public int Pid => _process.Id;

    /// <summary>The last lines nginx wrote: the access log (stdout) and the error log (stderr).</summary>
    public string RecentOutput => string.Join(Environment.NewLine, _output);

    /// <summary>nginx in front of instances listening at <paramref name="upstreams"/> (their base addresses, as http://127.0.0.1:port/).</summary>
    public static async Task<NginxProxy> StartAsync(IEnumerable<Uri> upstreams)
    {
        var servers = upstreams.Select(upstream => upstream.Authority).ToList();
        var folder = Directory.CreateTempSubdirectory("thumbnailapi-nginx-").FullName;
        // nginx's workers run as an unprivileged user when the tests run as root: they need to reach the temp folders.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var port = FreePort.OnLoopback();
                var config = Path.Combine(folder, "nginx.conf");
                await File.WriteAllTextAsync(config, NginxConfig.ForTest(NginxConfig.Committed, servers, port, folder));
                var (process, output) = Launch(folder, config);
                var proxy = new NginxProxy(process, output, folder, port);
                if (await proxy.WaitUntilListeningAsync(port))
                {
                    OrphanWatchdog.Start(Path.Combine(folder, "nginx.pid"), folder,
                        ["sh", "-c", "grep -qx nginx /proc/$1/comm && kill -TERM $1", "stop-nginx", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                    return proxy;
                }

                proxy.StopProcess();
                process.Dispose();
                if (attempt < 3 && proxy.RecentOutput.Contains("Address already in use", StringComparison.Ordinal))
                {
                    continue; // another process took the port between the check and the start
                }

                throw new InvalidOperationException($"nginx did not start:{Environment.NewLine}{proxy.RecentOutput}");
            }
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        StopProcess();
        _process.Dispose();
        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }
    }

    private static (Process Process, ConcurrentQueue<string> Output) Launch(string folder, string config)
    {
        var start = new ProcessStartInfo(Program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["-p", folder + "/", "-c", config, "-e", "stderr", "-g", $"daemon off; pid {Path.Combine(folder, "nginx.pid")};"])
        {
            start.ArgumentList.Add(argument);
        }

        var output = new ConcurrentQueue<string>();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => Record(output, line.Data);
        process.ErrorDataReceived += (_, line) => Record(output, line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, output);
    }

    private static void Record(ConcurrentQueue<string> output, string? line)
    {
        if (line is null)
        {
            return;
        }

        output.Enqueue(line);
        while (output.Count > 200)
        {
            output.TryDequeue(out _);
        }
    }

    private async Task<bool> WaitUntilListeningAsync(int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                if (File.Exists(Path.Combine(Folder, "nginx.pid")))
                {
                    return true; // listening, and the pid file the watchdog watches is written
                }

                await Task.Delay(20);
            }
            catch (SocketException)
            {
                await Task.Delay(20);
            }
        }

        return false;
    }

    /// <summary>SIGTERM to the master (it stops its workers), then SIGKILL to the whole tree if it is still there.</summary>
    private void StopProcess()
    {
        if (_process.HasExited)
        {
            return;
        }

        ExternalCommand.RunAsync("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10))
            .GetAwaiter().GetResult();
        if (!_process.WaitForExit(10_000))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }
}

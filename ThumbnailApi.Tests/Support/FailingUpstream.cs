using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// An "instance" that dies with every request: it accepts the connection, reads the request line and
/// headers, and resets the connection without answering. What nginx sees when an instance is killed
/// after a request reached it. Keeps the methods of the requests it received.
/// </summary>
public sealed class FailingUpstream : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public FailingUpstream()
    {
        _listener.Start();
        BaseAddress = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    public Uri BaseAddress { get; }

    /// <summary>The method of each request received (GET, POST, …).</summary>
    public ConcurrentQueue<string> Received { get; } = new();

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _accepting.Wait(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception stopped) when (stopped is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = DieWithRequestAsync(socket);
        }
    }

    private async Task DieWithRequestAsync(Socket socket)
    {
        using (socket)
        {
            var received = new StringBuilder();
            var buffer = new byte[4096];
            try
            {
                while (!received.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                    if (read == 0)
                    {
                        return; // nginx closed an idle connection
                    }

                    received.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }
            }
            catch (Exception gone) when (gone is OperationCanceledException or SocketException)
            {
                return;
            }

            Received.Enqueue(received.ToString().Split(' ', 2)[0]);
            socket.LingerState = new LingerOption(true, 0); // close with a reset, as a killed process's connections end
        }
    }
}

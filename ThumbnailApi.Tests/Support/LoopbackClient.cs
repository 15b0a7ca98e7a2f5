using System.Net;
using System.Net.Sockets;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// HTTP clients of a real Kestrel port whose connections come from a chosen loopback address
/// (any 127.x.y.z is this machine), so that the server sees different remote addresses: a client,
/// another client, or a trusted proxy. Optional headers go on every request.
/// </summary>
public static class LoopbackClient
{
    public static ApiClient From(Uri server, string localAddress, IReadOnlyDictionary<string, string>? headers = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellation) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), cancellation);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var http = new HttpClient(handler) { BaseAddress = server };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            http.DefaultRequestHeaders.TryAddWithoutValidation(name, value);
        }

        return new ApiClient(http);
    }
}

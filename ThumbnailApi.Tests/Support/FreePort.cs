using System.Net;
using System.Net.Sockets;

namespace ThumbnailApi.Tests.Support;

/// <summary>A TCP port on 127.0.0.1 that nothing listens on right now (another process may still take it before it is used: callers retry).</summary>
public static class FreePort
{
    public static int OnLoopback()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

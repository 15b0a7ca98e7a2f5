using System.Net.Sockets;
using System.Text;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// A bare TCP connection to a real Kestrel server, for what HttpClient will not do: declare a body
/// and not send it, send a body slowly, or keep sending after the server has answered.
/// </summary>
public sealed class RawHttpConnection : IDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;

    private RawHttpConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public static async Task<RawHttpConnection> OpenAsync(Uri server)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(server.Host, server.Port);
        return new RawHttpConnection(client);
    }

    public Task SendAsync(string text) => SendAsync(Encoding.ASCII.GetBytes(text));

    public async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

    /// <summary>Reads one response (status line, headers and a Content-Length or chunked body), or what came before the server closed.</summary>
    public async Task<string> ReadResponseAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var text = new StringBuilder();
        var buffer = new byte[8192];
        try
        {
            while (!IsComplete(text.ToString()))
            {
                var read = await _stream.ReadAsync(buffer, cancel.Token);
                if (read == 0)
                {
                    break;
                }

                text.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }
        }
        catch (Exception problem) when (problem is IOException or OperationCanceledException)
        {
            // Reset by the server, or no more within the timeout: return what arrived.
        }

        return text.ToString();
    }

    /// <summary>True when the server closes (or resets) the connection within the timeout.</summary>
    public async Task<bool> ClosedByServerAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var buffer = new byte[8192];
        try
        {
            while (await _stream.ReadAsync(buffer, cancel.Token) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
        _client.Dispose();
    }

    /// <summary>The status code of a response read by <see cref="ReadResponseAsync"/>, or 0.</summary>
    public static int StatusOf(string response) =>
        response.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && int.TryParse(response.AsSpan(9, 3), out var status) ? status : 0;

    private static bool IsComplete(string text)
    {
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }

        var headers = text[..end];
        var body = text[(end + 4)..];
        if (headers.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            return body.EndsWith("0\r\n\r\n", StringComparison.Ordinal);
        }

        var length = headers.Split("\r\n").FirstOrDefault(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        return length is null || Encoding.UTF8.GetByteCount(body) >= int.Parse(length["Content-Length:".Length..].Trim());
    }
}

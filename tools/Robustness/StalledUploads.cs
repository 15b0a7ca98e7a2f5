using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace ThumbnailApi.Robustness;

/// <summary>How one stalled connection ended: what the service answered (a status line), or that it closed it, and when.</summary>
public sealed record StalledConnection(int Client, long SentBytes, double SentAt, string Ending, double? EndedAt);

/// <summary>Bytes in the data folder's uploads/ at one moment (seconds on the run's clock).</summary>
public readonly record struct FolderReading(double At, long Bytes, int Files);

/// <summary>
/// The stalled-upload attack of issue 11: several clients each declare an upload just under the
/// size limit, send most of it at once, then nothing, keeping the connection open. The service
/// should abort an upload that sends nothing for its idle timeout and delete the partial file.
/// </summary>
public sealed class StalledUploads(Uri service, string uploadsFolder, Stopwatch clock)
{
    private static readonly byte[] ZeroChunk = new byte[1 << 20];

    private readonly List<TcpClient> _connections = [];
    private readonly List<Task<StalledConnection>> _endings = [];

    /// <summary>
    /// Opens <paramref name="clients"/> connections and sends, on each, the request head and the first
    /// <paramref name="sendBytes"/> of a multipart upload of <paramref name="declaredFileBytes"/>;
    /// returns when all is sent. The connections stay open until <see cref="CloseAsync"/>.
    /// </summary>
    public async Task SendAsync(int clients, long declaredFileBytes, long sendBytes)
    {
        const string boundary = "resource-attack-stall";
        var head = Encoding.ASCII.GetBytes(
            $"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"stall.jpg\"\r\n" +
            "Content-Type: application/octet-stream\r\n\r\n");
        var tail = Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n");
        var length = head.Length + declaredFileBytes + tail.Length;
        var request = Encoding.ASCII.GetBytes(
            $"POST /api/v1/thumbnail_generator/ HTTP/1.1\r\nHost: {service.Authority}\r\n" +
            $"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {length}\r\n\r\n");

        var chunk = new byte[1 << 20];
        chunk[0] = 0xFF;
        chunk[1] = 0xD8;
        chunk[2] = 0xFF; // a JPEG start, then zeros

        var sending = Enumerable.Range(0, clients).Select(async client =>
        {
            var tcp = new TcpClient { NoDelay = true };
            await tcp.ConnectAsync(service.Host, service.Port);
            lock (_connections)
            {
                _connections.Add(tcp);
            }

            var stream = tcp.GetStream();
            long sent = 0;
            try
            {
                await stream.WriteAsync(request);
                await stream.WriteAsync(head);
                for (var first = true; sent < sendBytes; first = false)
                {
                    var count = (int)Math.Min(chunk.Length, sendBytes - sent);
                    await stream.WriteAsync(first ? chunk.AsMemory(0, count) : ZeroChunk.AsMemory(0, count));
                    sent += count;
                }
            }
            catch (IOException)
            {
                // the service closed the connection while we were sending: recorded below
            }

            var sentAt = ProcessMonitor.Seconds(clock);
            lock (_endings)
            {
                _endings.Add(WatchAsync(client, stream, sent, sentAt));
            }
        });
        await Task.WhenAll(sending);
    }

    /// <summary>
    /// Bytes and files in uploads/ now, counting only files of a megabyte or more: the stalled uploads,
    /// not the normal uploads that come and go meanwhile.
    /// </summary>
    public FolderReading Read()
    {
        long bytes = 0;
        var files = 0;
        try
        {
            foreach (var path in Directory.EnumerateFiles(uploadsFolder))
            {
                try
                {
                    var length = new FileInfo(path).Length;
                    if (length >= 1 << 20)
                    {
                        bytes += length;
                        files++;
                    }
                }
                catch (IOException)
                {
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
        }

        return new FolderReading(ProcessMonitor.Seconds(clock), bytes, files);
    }

    /// <summary>Closes every connection still open and returns how each ended.</summary>
    public async Task<List<StalledConnection>> CloseAsync()
    {
        Task<StalledConnection>[] endings;
        lock (_endings)
        {
            endings = [.. _endings];
        }

        var done = endings.Where(t => t.IsCompleted).Select(t => t.Result.Client).ToHashSet();
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                connection.Dispose();
            }
        }

        var results = await Task.WhenAll(endings);
        return results.Select(r => done.Contains(r.Client) ? r : r with { Ending = "still open at the end", EndedAt = null })
            .OrderBy(r => r.Client).ToList();
    }

    /// <summary>Waits for the service to answer or close the connection.</summary>
    private async Task<StalledConnection> WatchAsync(int client, NetworkStream stream, long sent, double sentAt)
    {
        var buffer = new byte[4096];
        try
        {
            var read = await stream.ReadAsync(buffer);
            var at = ProcessMonitor.Seconds(clock);
            if (read == 0)
            {
                return new StalledConnection(client, sent, sentAt, "closed by the service", at);
            }

            var text = Encoding.ASCII.GetString(buffer, 0, read);
            var statusLine = text.Split("\r\n")[0];
            return new StalledConnection(client, sent, sentAt, $"answered \"{statusLine}\"", at);
        }
        catch (Exception problem) when (problem is IOException or ObjectDisposedException or SocketException)
        {
            return new StalledConnection(client, sent, sentAt, "reset", ProcessMonitor.Seconds(clock));
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace ThumbnailApi.Robustness;

/// <summary>The answer to one upload: its status, the task id of a 202, and the error code, message and Retry-After of a refusal.</summary>
public sealed record UploadResult(int Status, string? TaskId, string? Code, TimeSpan? RetryAfter, string? Failure, string? Message = null);

/// <summary>
/// A client of a running service: upload, poll to the end, download. With <paramref name="localAddress"/>
/// its connections come from that address (say 127.0.0.2, to be another client than 127.0.0.1 to the
/// service's per-client limits).
/// </summary>
public sealed class LoadClient(Uri baseAddress, IPAddress? localAddress = null) : IDisposable
{
    private const string Api = "/api/v1/thumbnail_generator";

    private readonly HttpClient _http = new(Handler(localAddress))
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromMinutes(5),
    };

    private static SocketsHttpHandler Handler(IPAddress? localAddress)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) };
        if (localAddress is not null)
        {
            handler.ConnectCallback = async (context, cancellation) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(localAddress, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellation);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        return handler;
    }

    /// <summary>Uploads one file; a broken connection (the service was killed) is a result too, not an exception.</summary>
    public async Task<UploadResult> UploadAsync(byte[] bytes, string fileName)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "image", fileName);
        try
        {
            using var response = await _http.PostAsync($"{Api}/", form);
            var text = await response.Content.ReadAsStringAsync();
            JsonElement body;
            try
            {
                body = JsonDocument.Parse(text).RootElement;
            }
            catch (JsonException)
            {
                return new UploadResult((int)response.StatusCode, null, null, response.Headers.RetryAfter?.Delta,
                                        $"not a JSON body ({text.Length} characters)");
            }

            return new UploadResult((int)response.StatusCode,
                body.TryGetProperty("task_id", out var id) && response.StatusCode == HttpStatusCode.Accepted ? id.GetString() : null,
                body.TryGetProperty("code", out var code) ? code.GetString() : null,
                response.Headers.RetryAfter?.Delta,
                null,
                body.TryGetProperty("message", out var message) ? message.GetString() : null);
        }
        catch (Exception problem) when (problem is HttpRequestException or TaskCanceledException)
        {
            return new UploadResult(0, null, null, null, problem.Message);
        }
    }

    /// <summary>The task's status body, or null when the service cannot be reached.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)?> StatusAsync(string taskId)
    {
        try
        {
            using var response = await _http.GetAsync($"{Api}/{taskId}");
            return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>Polls until every task has left PENDING or the deadline passes; returns the last status body of each.</summary>
    public async Task<Dictionary<string, JsonElement?>> WaitForAllAsync(IReadOnlyCollection<string> ids, TimeSpan deadline)
    {
        var last = ids.ToDictionary(id => id, _ => (JsonElement?)null);
        var open = new HashSet<string>(ids);
        var until = DateTime.UtcNow + deadline;
        while (open.Count > 0 && DateTime.UtcNow < until)
        {
            foreach (var id in open.ToList())
            {
                if (await StatusAsync(id) is not var (status, body))
                {
                    continue;
                }

                last[id] = body;
                if (status != HttpStatusCode.OK || body.GetProperty("task_status").GetString() != "PENDING")
                {
                    open.Remove(id);
                }
            }

            if (open.Count > 0)
            {
                await Task.Delay(200);
            }
        }

        return last;
    }

    /// <summary>
    /// Long-polls one task (<c>?wait=</c>, at most 30 s a request) until it leaves PENDING or
    /// <paramref name="deadline"/> passes. Returns the last HTTP status (0: unreachable) and body.
    /// </summary>
    public async Task<(int Status, JsonElement? Body)> FollowAsync(string taskId, TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        (int Status, JsonElement? Body) last = (0, null);
        var unreachableSince = (DateTime?)null;
        while (DateTime.UtcNow < until && (unreachableSince is null || DateTime.UtcNow - unreachableSince < TimeSpan.FromSeconds(10)))
        {
            var wait = Math.Clamp((int)(until - DateTime.UtcNow).TotalSeconds, 1, 30);
            try
            {
                using var response = await _http.GetAsync($"{Api}/{taskId}?wait={wait}");
                var text = await response.Content.ReadAsStringAsync();
                last = ((int)response.StatusCode, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : null);
                unreachableSince = null;
                if (response.StatusCode != HttpStatusCode.OK
                    || last.Body?.GetProperty("task_status").GetString() != "PENDING")
                {
                    return last;
                }
            }
            catch (Exception problem) when (problem is HttpRequestException or TaskCanceledException or JsonException)
            {
                last = (0, null);
                unreachableSince ??= DateTime.UtcNow; // given up on after 10 s: the service is gone
                await Task.Delay(200);
            }
        }

        return last;
    }

    /// <summary>The status code of a GET (0: unreachable), for probes such as /healthz.</summary>
    public async Task<int> GetStatusAsync(string path)
    {
        try
        {
            using var response = await _http.GetAsync(path);
            return (int)response.StatusCode;
        }
        catch (Exception problem) when (problem is HttpRequestException or TaskCanceledException)
        {
            return 0;
        }
    }

    public async Task<(HttpStatusCode Status, string? ContentType, byte[] Bytes)> DownloadAsync(string taskId)
    {
        using var response = await _http.GetAsync($"{Api}/{taskId}/thumbnail");
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsByteArrayAsync());
    }

    public void Dispose() => _http.Dispose();
}

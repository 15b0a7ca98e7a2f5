using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// Uploads streaming in while a test breaks something: a few senders upload one image again and
/// again, each time with a width and height no other upload has (so no upload reuses another's
/// thumbnail), until stopped, and every answer is recorded with when it was sent and answered.
/// </summary>
public sealed class UploadStream : IAsyncDisposable
{
    private readonly ApiClient _client;
    private readonly byte[] _image;
    private readonly string _fileName;
    private readonly ConcurrentQueue<StreamedUpload> _answers = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _senders;
    private int _next = -1;

    private UploadStream(ApiClient client, string imagePath, int senders, int firstIndex)
    {
        _client = client;
        _image = File.ReadAllBytes(imagePath);
        _fileName = Path.GetFileName(imagePath);
        _next = firstIndex - 1;
        _senders = Enumerable.Range(0, senders).Select(_ => Task.Run(SendAsync)).ToArray();
    }

    public IReadOnlyList<StreamedUpload> Answers => [.. _answers];

    /// <summary>The task ids of the uploads answered 202.</summary>
    public IReadOnlyList<string> Accepted => Answers.Where(answer => answer.TaskId is not null).Select(answer => answer.TaskId!).ToList();

    /// <summary>Starts <paramref name="senders"/> senders; upload sizes start from <paramref name="firstIndex"/> (sizes below it are the test's own).</summary>
    public static UploadStream Start(ApiClient client, string imagePath, int senders = 2, int firstIndex = 1) => new(client, imagePath, senders, firstIndex);

    /// <summary>The width and height of upload number <paramref name="index"/>: no two indexes share them.</summary>
    public static Dictionary<string, string> UniqueSize(int index) => new()
    {
        ["width"] = (32 + index % 900).ToString(CultureInfo.InvariantCulture),
        ["height"] = (32 + index / 900).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Stops sending and waits for the uploads in flight to be answered.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_senders);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task SendAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var index = Interlocked.Increment(ref _next);
            var sent = DateTimeOffset.UtcNow;
            var clock = Stopwatch.StartNew();
            using var response = await _client.PostBytesAsync(_image, _fileName, UniqueSize(index));
            var text = await response.Content.ReadAsStringAsync();
            var body = response.Content.Headers.ContentType?.MediaType == "application/json" ? JsonDocument.Parse(text).RootElement : (JsonElement?)null;
            _answers.Enqueue(new StreamedUpload(
                index, sent, clock.Elapsed, response.StatusCode,
                response.StatusCode == HttpStatusCode.Accepted ? body?.GetProperty("task_id").GetString() : null,
                body is { } json && json.TryGetProperty("code", out var code) ? code.GetString() : null,
                response.Headers.RetryAfter?.Delta));
            await Task.Delay(20, CancellationToken.None); // a steady stream, not a flood: the machine also runs the workers
        }
    }
}

/// <summary>One streamed upload: its index, when it was sent, how long its answer took, the status, the task id of a 202, the error code, and Retry-After.</summary>
public sealed record StreamedUpload(int Index, DateTimeOffset Sent, TimeSpan Took, HttpStatusCode Status, string? TaskId, string? Code, TimeSpan? RetryAfter)
{
    public DateTimeOffset Answered => Sent + Took;

    public override string ToString() => $"#{Index} at {Sent:HH:mm:ss.fff}: {(int)Status} {Code} in {Took.TotalMilliseconds:F0} ms";
}

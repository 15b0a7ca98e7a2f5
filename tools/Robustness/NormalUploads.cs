using System.Diagnostics;
using System.Text;

namespace ThumbnailApi.Robustness;

/// <summary>One normal upload: when it was sent (seconds on the run's clock), how long until its task ended, and how it ended.</summary>
public sealed record NormalUpload(double Sent, double Seconds, string Outcome, bool Finished);

/// <summary>
/// A 640x480 JPEG (test_images/photo.jpg) uploaded every second while an attack runs, each followed
/// to its end: the time from upload to SUCCESS is what an ordinary client sees meanwhile. Each copy
/// carries its own JPEG comment, so the service cannot reuse an earlier thumbnail (reuse of identical
/// uploads is on by default) and really decodes it.
/// </summary>
public sealed class NormalUploads(LoadClient client, byte[] photo, Stopwatch clock)
{
    private readonly List<NormalUpload> _done = [];
    private readonly List<(double Sent, Task Task)> _inFlight = [];
    private CancellationTokenSource? _loop;
    private Task? _loopTask;
    private int _counter;

    /// <summary>Uploads one copy and follows it to its end.</summary>
    public async Task<NormalUpload> OneAsync()
    {
        var sent = ProcessMonitor.Seconds(clock);
        var result = await client.UploadAsync(Unique(Interlocked.Increment(ref _counter)), "photo.jpg");
        NormalUpload upload;
        if (result.Status != 202)
        {
            upload = new NormalUpload(sent, ProcessMonitor.Seconds(clock) - sent, $"upload {result.Status} {result.Code ?? result.Failure}", true);
        }
        else
        {
            var (status, body) = await client.FollowAsync(result.TaskId!, TimeSpan.FromMinutes(10));
            var state = body?.GetProperty("task_status").GetString() ?? $"status {status}";
            var code = body is { } b && b.TryGetProperty("error", out var e) && e.ValueKind == System.Text.Json.JsonValueKind.Object
                ? $" {e.GetProperty("code").GetString()}" : "";
            upload = new NormalUpload(sent, ProcessMonitor.Seconds(clock) - sent, state + code, state is "SUCCESS" or "FAILED");
        }

        lock (_done)
        {
            _done.Add(upload);
        }

        return upload;
    }

    /// <summary>Starts one upload every <paramref name="every"/> seconds, each followed on its own.</summary>
    public void Start(double every)
    {
        _loop = new CancellationTokenSource();
        var token = _loop.Token;
        _loopTask = Task.Run(async () =>
        {
            while (!token.IsCancellationRequested)
            {
                lock (_inFlight)
                {
                    _inFlight.Add((ProcessMonitor.Seconds(clock), OneAsync()));
                }

                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(every), token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }, CancellationToken.None);
    }

    /// <summary>Stops sending and waits up to <paramref name="drain"/> for the uploads in flight; returns those still unfinished.</summary>
    public async Task<List<NormalUpload>> StopAsync(TimeSpan drain)
    {
        _loop?.Cancel();
        if (_loopTask is not null)
        {
            await _loopTask;
        }

        (double Sent, Task Task)[] inFlight;
        lock (_inFlight)
        {
            inFlight = [.. _inFlight];
            _inFlight.Clear();
        }

        try
        {
            await Task.WhenAll(inFlight.Select(f => f.Task)).WaitAsync(drain);
        }
        catch (TimeoutException)
        {
        }

        // Those still out are unfinished, with the time they have waited so far.
        var now = ProcessMonitor.Seconds(clock);
        return inFlight.Where(f => !f.Task.IsCompleted).Select(f => new NormalUpload(f.Sent, now - f.Sent, "unfinished", false)).ToList();
    }

    /// <summary>The uploads that ended since the last call (and forgets them).</summary>
    public List<NormalUpload> Take()
    {
        lock (_done)
        {
            var taken = _done.ToList();
            _done.Clear();
            return taken;
        }
    }

    /// <summary>The photo with a comment segment (FF FE) right after SOI naming this copy.</summary>
    private byte[] Unique(int number)
    {
        var text = Encoding.ASCII.GetBytes($"resource-attack normal upload {number} {Environment.ProcessId}");
        var output = new byte[photo.Length + 4 + text.Length];
        photo.AsSpan(0, 2).CopyTo(output);
        output[2] = 0xFF;
        output[3] = 0xFE;
        output[4] = (byte)((text.Length + 2) >> 8);
        output[5] = (byte)(text.Length + 2);
        text.CopyTo(output, 6);
        photo.AsSpan(2).CopyTo(output.AsSpan(6 + text.Length));
        return output;
    }
}

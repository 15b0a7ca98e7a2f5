using Dapper;
using SkiaSharp;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Robustness;

/// <summary>
/// Two instances on one database: A (one worker, held by a <see cref="BlockedTask"/>) and B (two idle
/// workers). Idle pick-up: a photo uploaded to A is claimed by B, woken by the notification of the
/// insert; measured from the row's created_at (A's insert) to its started_at (B's claim), and from
/// the 202's arrival at the client. Long-poll wake-up: a large PNG uploaded to A and long-polled on A
/// is done by B; measured from the row's completed_at (B's fenced write, whose commit notifies every
/// instance) to the long-poll's answer from A. All times are Unix milliseconds of this machine's clock.
/// </summary>
public static class CrossInstanceLatency
{
    public sealed record Figures(
        List<double> PickUpMs, List<double> PickUpFrom202Ms, int PickedUpByA, List<double> WakeMs, int WakeDiscarded, string BusyInstance, string IdleInstance);

    public static async Task<Figures> MeasureAsync(PostgresServer server, string dll, string images, int lease, int pickUps, int wakes)
    {
        var settings = new Dictionary<string, string>
        {
            ["ThumbnailApi:LeaseSeconds"] = $"{lease}",
            ["ThumbnailApi:ProcessingTimeoutSeconds"] = "3600",
            ["ThumbnailApi:ReuseIdenticalUploads"] = "false",
        };
        await using var cluster = await ScaledOutCluster.CreateAsync(server, dll, settings);
        var a = await cluster.StartInstanceAsync(new Dictionary<string, string> { ["ThumbnailApi:WorkerCount"] = "1" });
        var holder = await BlockedTask.WaitUntilClaimedAsync(cluster, await BlockedTask.QueueAsync(cluster));
        if (holder != a.Id)
        {
            throw new InvalidOperationException($"The blocked task went to {holder}, not to A ({a.Id}).");
        }

        var b = await cluster.StartInstanceAsync(new Dictionary<string, string> { ["ThumbnailApi:WorkerCount"] = "2" });
        await Task.Delay(TimeSpan.FromSeconds(1)); // B's workers have found the queue empty and reported themselves idle
        using var viaA = new LoadClient(a.BaseAddress);
        await using var connection = await cluster.OpenAsync();
        var photo = File.ReadAllBytes(Path.Combine(images, "photo.jpg"));

        var pickUp = new List<double>();
        var from202 = new List<double>();
        var byA = 0;
        for (var i = 0; i < pickUps; i++)
        {
            var upload = await viaA.UploadAsync(UniqueJpeg.Of(photo, $"pick-up {i}"), "photo.jpg");
            var answered = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var id = upload.TaskId ?? throw new InvalidOperationException($"Upload to A answered {upload.Status} {upload.Code} {upload.Failure}");
            await viaA.FollowAsync(id, TimeSpan.FromSeconds(30));
            var row = await connection.QuerySingleAsync<(long Created, long Started, string Owner)>(
                "SELECT created_at, started_at, lease_owner FROM tasks WHERE id = @id", new { id });
            if (row.Owner != b.Id)
            {
                byA++;
                continue;
            }

            pickUp.Add(row.Started - row.Created);
            from202.Add(row.Started - answered);
            await Task.Delay(100); // B's worker is idle again, and has said so
        }

        var large = LargePng(4000, 3000);
        var wake = new List<double>();
        var discarded = 0;
        for (var i = 0; i < wakes; i++)
        {
            var upload = await viaA.UploadAsync(large, "large.png");
            var id = upload.TaskId ?? throw new InvalidOperationException($"Upload to A answered {upload.Status} {upload.Code} {upload.Failure}");
            var asked = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var (status, body) = await viaA.FollowAsync(id, TimeSpan.FromSeconds(60));
            var answered = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var row = await connection.QuerySingleAsync<(long? Completed, string Owner)>(
                "SELECT completed_at, lease_owner FROM tasks WHERE id = @id", new { id });
            if (status != 200 || body?.GetProperty("task_status").GetString() != "SUCCESS" || row.Completed is not { } completed)
            {
                throw new InvalidOperationException($"The large PNG {id} ended {status} {body}");
            }

            if (row.Owner != b.Id || completed <= asked)
            {
                discarded++; // done by A, or done before the long-poll was sent: no wake-up to measure
                continue;
            }

            wake.Add(answered - completed);
        }

        return new Figures(pickUp, from202, byA, wake, discarded, a.Id, b.Id);
    }

    /// <summary>A PNG large enough that decoding it takes a few hundred milliseconds: a long-poll sent after its 202 is surely waiting when it finishes.</summary>
    private static byte[] LargePng(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        using (var paint = new SKPaint())
        {
            paint.Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(width, height),
                [SKColors.DarkBlue, SKColors.Orange, SKColors.SeaGreen], SKShaderTileMode.Mirror);
            canvas.DrawRect(0, 0, width, height, paint);
            paint.Shader = null;
            paint.Color = SKColors.White.WithAlpha(90);
            for (var x = 0; x < width; x += 37)
            {
                canvas.DrawLine(x, 0, width - x, height, paint);
            }
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}

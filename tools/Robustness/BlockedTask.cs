using Dapper;
using ThumbnailApi.Persistence;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Robustness;

/// <summary>
/// A queued task written straight into the shared database whose upload file is a named pipe (FIFO)
/// that nobody writes to: the worker that claims it blocks opening the file, on its own thread, and
/// stays busy while its instance renews the lease and answers requests. That is how the scale-out
/// tool makes an instance's workers all busy for as long as it needs (give such instances a long
/// ProcessingTimeoutSeconds). <see cref="Unblock"/> puts a real photo in the pipe's place, for the
/// next claim after its holder died.
/// </summary>
public static class BlockedTask
{
    public static async Task<string> QueueAsync(ScaledOutCluster cluster)
    {
        var id = TaskId.New();
        await ExternalCommand.RunCheckedAsync("mkfifo", [Path.Combine(cluster.UploadsFolder, id)], TimeSpan.FromSeconds(10));
        await using var connection = await cluster.OpenAsync();
        await connection.ExecuteAsync(
            """
            INSERT INTO tasks (id, state, file_name, input_format, input_bytes, input_width, input_height, width, height, fit, format,
                               attempts, created_at, memory_bytes)
            VALUES (@id, 'queued', 'photo.jpg', 'image/jpeg', 35972, 640, 480, 100, 100, 'cover', 'auto', 0, @now, 4000000)
            """, new { id, now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
        return id;
    }

    /// <summary>Waits until a worker holds the task; returns the instance id of the holder.</summary>
    public static async Task<string> WaitUntilClaimedAsync(ScaledOutCluster cluster, string id)
    {
        await using var connection = await cluster.OpenAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var owner = await connection.ExecuteScalarAsync<string?>(
                "SELECT lease_owner FROM tasks WHERE id = @id AND state = 'processing'", new { id });
            if (owner is not null)
            {
                return owner;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No worker claimed the blocked task {id} within 30 s.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Replaces the pipe with a real photo (its holder is dead): the next claim makes a thumbnail of it.</summary>
    public static void Unblock(ScaledOutCluster cluster, string id, string photo)
    {
        var path = Path.Combine(cluster.UploadsFolder, id);
        File.Delete(path);
        File.Copy(photo, path);
    }
}

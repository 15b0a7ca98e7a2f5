using Dapper;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Robustness;

/// <summary>
/// How long the tasks of a dead instance wait: instance K claims two <see cref="BlockedTask"/>s (both
/// of its workers busy), survivor S starts, K is SIGKILLed at a random moment of its heartbeat cycle
/// and its pipes are replaced with real photos. Measured from the SIGKILL to S's new claim (the lease
/// ran out and a reaper, every half lease, put the task back) and to the task's SUCCESS. A fresh
/// database and pair of instances each round, all with the same lease.
/// </summary>
public static class KillRecoveryTime
{
    public sealed record Sample(double ClaimedSeconds, double FinishedSeconds, bool FinishedBySurvivor, int Attempts);

    public static async Task<List<Sample>> MeasureAsync(PostgresServer server, string dll, string images, int lease, int rounds, Action<string> log)
    {
        var settings = new Dictionary<string, string>
        {
            ["ThumbnailApi:LeaseSeconds"] = $"{lease}",
            ["ThumbnailApi:ProcessingTimeoutSeconds"] = "3600",
            ["ThumbnailApi:WorkerCount"] = "2",
        };
        var samples = new List<Sample>();
        for (var round = 1; round <= rounds; round++)
        {
            await using var cluster = await ScaledOutCluster.CreateAsync(server, dll, settings);
            var victim = await cluster.StartInstanceAsync();
            string[] held = [await BlockedTask.QueueAsync(cluster), await BlockedTask.QueueAsync(cluster)];
            foreach (var id in held)
            {
                var holder = await BlockedTask.WaitUntilClaimedAsync(cluster, id);
                if (holder != victim.Id)
                {
                    throw new InvalidOperationException($"The blocked task went to {holder}, not to the victim.");
                }
            }

            var survivor = await cluster.StartInstanceAsync();
            await Task.Delay(TimeSpan.FromSeconds(Random.Shared.NextDouble() * lease / 3.0)); // anywhere in the heartbeat cycle
            var killedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            victim.Process.Kill();
            foreach (var id in held)
            {
                BlockedTask.Unblock(cluster, id, Path.Combine(images, "photo.jpg"));
            }

            await using var connection = await cluster.OpenAsync();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2 * lease + 30);
            List<(string State, int Attempts, string Owner, long? Started, long? Completed)> rows;
            while (true)
            {
                rows = (await connection.QueryAsync<(string, int, string, long?, long?)>(
                    "SELECT state, attempts, lease_owner, started_at, completed_at FROM tasks WHERE id = ANY(@held)", new { held })).AsList();
                if (rows.All(row => row.State is "succeeded" or "failed") || DateTime.UtcNow > deadline)
                {
                    break;
                }

                await Task.Delay(20);
            }

            foreach (var row in rows)
            {
                samples.Add(new Sample(
                    ((row.Started ?? killedAt) - killedAt) / 1000.0,
                    row.State == "succeeded" && row.Completed is { } done ? (done - killedAt) / 1000.0 : double.NaN,
                    row.State == "succeeded" && row.Owner == survivor.Id,
                    row.Attempts));
            }

            log($"    lease {lease} s, round {round}: " + string.Join("; ", rows.Select(row =>
                $"{row.State} on attempt {row.Attempts} by {(row.Owner == survivor.Id ? "the survivor" : row.Owner)}, claimed {((row.Started ?? killedAt) - killedAt) / 1000.0:F1} s and done {((row.Completed ?? killedAt) - killedAt) / 1000.0:F1} s after the SIGKILL")));
        }

        return samples;
    }
}

using System.Net;
using System.Text.Json;
using Dapper;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// An instance on PostgreSQL hears of finished tasks (long-polls) and of queued work (idle workers)
/// through its one LISTEN connection. While that connection is down and cannot come back, the
/// instance still answers, but its long-polls wait out their whole <c>?wait=</c> and its idle workers
/// take new work only at the fallback poll: readiness, which is about this instance, must say so (degraded, still 200).
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class NotificationReadinessTests
{
    [Test]
    public async Task An_instance_whose_notification_connection_is_down_and_cannot_come_back_says_so_on_readyz()
    {
        await using var cluster = await SharedDatabaseInstances.CreateAsync();
        using var client = cluster.Start().CreateClient();
        Assert.That(await Eventually.TrueAsync(async () => (await ReadyAsync(client)).Status == HttpStatusCode.OK), Is.True, "ready at first");

        // New connections to the database are refused (pooled ones go on working); the listener's is cut.
        await using var inside = await cluster.OpenAsync();
        await using var admin = await Requires.Postgres().OpenAsync("postgres");
        await admin.ExecuteAsync($"ALTER DATABASE \"{cluster.Database}\" WITH ALLOW_CONNECTIONS false");
        try
        {
            await inside.ExecuteAsync(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'thumbnailapi-listener'");

            var saidSo = await Eventually.TrueAsync(async () => (await ReadyAsync(client)).Body.GetProperty("status").GetString() != "healthy",
                TimeSpan.FromSeconds(10));
            var (_, body) = await ReadyAsync(client);

            Assert.That(body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString(), Is.EqualTo("healthy"),
                "precondition: the store still works on its pooled connections");
            Assert.That(saidSo, Is.True, $"readiness still says healthy 10 s after the listener lost its connection: {body}");
            var notifications = body.GetProperty("checks").GetProperty("notifications");
            Assert.That(notifications.GetProperty("status").GetString(), Is.EqualTo("degraded"), body.ToString());
            Assert.That(notifications.GetProperty("description").GetString(), Does.Contain("polling"));
            Assert.That((await ReadyAsync(client)).Status, Is.EqualTo(HttpStatusCode.OK), "degraded, not unready: the instance still takes uploads");
        }
        finally
        {
            await admin.ExecuteAsync($"ALTER DATABASE \"{cluster.Database}\" WITH ALLOW_CONNECTIONS true");
        }
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/readyz");
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }
}

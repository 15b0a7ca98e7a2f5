using Microsoft.Extensions.Configuration;
using System.Net;
using System.Text.Json;
using ThumbnailApi.Operations;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>/healthz says the process answers; /readyz says whether it can take uploads, check by check.</summary>
[TestFixture]
public sealed class HealthTests
{
    [Test]
    public async Task Liveness_answers_200_healthy_without_running_checks()
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/healthz");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body.GetProperty("status").GetString(), Is.EqualTo("healthy"));
        Assert.That(body.TryGetProperty("checks", out _), Is.False);
        Assert.That(response.Headers.CacheControl?.NoStore, Is.True);
    }

    [Test]
    public async Task Readiness_is_200_with_the_detail_of_each_check_when_all_is_well()
    {
        using var factory = new ThumbnailApiFactory(new Dictionary<string, string?> { ["ThumbnailApi:WorkerCount"] = "3" });
        using var client = factory.CreateClient();

        var (status, body) = await ReadyWhenWorkersRunAsync(client);

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body.ToString());
        Assert.That(body.GetProperty("status").GetString(), Is.EqualTo("healthy"));
        var checks = body.GetProperty("checks");
        Assert.That(checks.EnumerateObject().Select(check => check.Name), Is.EquivalentTo(new[] { "recovery", "database", "data_folder", "workers", "queue", "notifications", "input_formats" }));
        Assert.That(checks.EnumerateObject().Select(check => check.Value.GetProperty("status").GetString()), Is.All.EqualTo("healthy"));
        Assert.Multiple(() =>
        {
            Assert.That(checks.GetProperty("database").GetProperty("data").GetProperty("unfinished_tasks").GetInt64(), Is.Zero);
            Assert.That(checks.GetProperty("data_folder").GetProperty("data").GetProperty("available_bytes").GetInt64(), Is.Positive);
            Assert.That(checks.GetProperty("workers").GetProperty("data").GetProperty("alive").GetInt32(), Is.EqualTo(3));
            Assert.That(checks.GetProperty("workers").GetProperty("data").GetProperty("expected").GetInt32(), Is.EqualTo(3));
            Assert.That(checks.GetProperty("queue").GetProperty("data").GetProperty("capacity").GetInt32(), Is.EqualTo(500));
        });
        Assert.That(body.ToString(), Does.Not.Contain(factory.DataPath), "no path in the answer");
    }

    [Test]
    public async Task The_data_folder_check_writes_a_file_and_leaves_nothing_behind()
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateClient();

        await ReadyWhenWorkersRunAsync(client);
        await ReadyWhenWorkersRunAsync(client);

        Assert.That(Directory.GetFiles(factory.UploadsPath), Is.Empty);
        Assert.That(Directory.GetFiles(factory.ThumbnailsPath), Is.Empty);
    }

    [Test]
    public async Task Readiness_is_503_naming_the_cause_when_the_data_folder_cannot_be_written()
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateClient();
        await ReadyWhenWorkersRunAsync(client);

        Directory.Delete(factory.ThumbnailsPath); // as if someone emptied the volume under the running service
        var (status, body) = await GetReadyAsync(client);

        Assert.That(status, Is.EqualTo(HttpStatusCode.ServiceUnavailable), body.ToString());
        Assert.That(body.GetProperty("status").GetString(), Is.EqualTo("unhealthy"));
        var check = body.GetProperty("checks").GetProperty("data_folder");
        Assert.That(check.GetProperty("status").GetString(), Is.EqualTo("unhealthy"));
        Assert.That(check.GetProperty("description").GetString(), Does.Contain("does not accept writes").And.Contain("missing"));
        Assert.That(body.ToString(), Does.Not.Contain(factory.DataPath), "no path in the answer");
        Assert.That(body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString(), Is.EqualTo("healthy"));
    }

    [Test]
    public async Task Readiness_is_503_while_the_queue_is_full_and_200_again_once_it_drains()
    {
        using var service = new GatedService(new Dictionary<string, string?> { ["ThumbnailApi:QueueCapacity"] = "1", ["ThumbnailApi:WorkerCount"] = "1" });
        var client = service.Client;
        await ReadyWhenWorkersRunAsync(client.Http);

        var held = await service.UploadHeldAsync("photo.jpg");
        var queued = await client.UploadAsync(TestImages.Path("alpha.png"));
        var (fullStatus, fullBody) = await GetReadyAsync(client.Http);

        Assert.That(fullStatus, Is.EqualTo(HttpStatusCode.ServiceUnavailable), fullBody.ToString());
        var queue = fullBody.GetProperty("checks").GetProperty("queue");
        Assert.That(queue.GetProperty("status").GetString(), Is.EqualTo("unhealthy"));
        Assert.That(queue.GetProperty("data").GetProperty("depth").GetInt32(), Is.EqualTo(1));
        var workers = fullBody.GetProperty("checks").GetProperty("workers");
        Assert.That(workers.GetProperty("data").GetProperty("busy").GetInt32(), Is.EqualTo(1));
        Assert.That(fullBody.GetProperty("checks").GetProperty("database").GetProperty("data").GetProperty("unfinished_tasks").GetInt64(), Is.EqualTo(2));

        service.Gate.Open();
        await client.WaitUntilFinishedAsync(held);
        await client.WaitUntilFinishedAsync(queued);
        var (drainedStatus, drainedBody) = await GetReadyAsync(client.Http);
        Assert.That(drainedStatus, Is.EqualTo(HttpStatusCode.OK), drainedBody.ToString());
    }

    [TestCase("http://+:8000", "http://localhost:8000/healthz")]
    [TestCase("http://*:5000;https://*:5001", "http://localhost:5000/healthz")]
    [TestCase("http://0.0.0.0:8000", "http://localhost:8000/healthz")]
    [TestCase("http://[::]:8000", "http://localhost:8000/healthz")]
    [TestCase("http://127.0.0.1:9001", "http://127.0.0.1:9001/healthz")]
    public void The_health_check_mode_asks_healthz_on_the_address_the_service_listens_on(string urls, string expected)
    {
        Assert.That(HealthProbe.LivenessUrl([HealthProbe.Flag, "--urls", urls])?.ToString(), Is.EqualTo(expected));
    }

    [Test]
    public void Without_a_configured_address_the_service_and_its_health_check_use_port_8000()
    {
        var nothing = new ConfigurationBuilder().Build();
        var portsOnly = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["http_ports"] = "8080" }).Build();

        Assert.That(ServiceRegistration.HasListenAddress(nothing), Is.False);
        Assert.That(ServiceRegistration.HasListenAddress(portsOnly), Is.True);
        Assert.That(ServiceRegistration.DefaultUrl, Is.EqualTo("http://+:8000"));

        // The probe reads ASPNETCORE_* variables too; .NET container images set ASPNETCORE_HTTP_PORTS.
        Assume.That(Environment.GetEnvironmentVariable("ASPNETCORE_URLS") ?? Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS"), Is.Null);
        Assert.That(HealthProbe.LivenessUrl([HealthProbe.Flag])?.ToString(), Is.EqualTo("http://localhost:8000/healthz"));
    }

    [Test]
    public async Task The_health_check_mode_exits_0_against_a_running_service_and_1_when_nothing_answers()
    {
        using var factory = new ThumbnailApiFactory();
        factory.UseKestrel(0);
        factory.StartServer();
        var address = factory.ClientOptions.BaseAddress.ToString();
        using var output = new StringWriter();

        var running = await HealthProbe.RunAsync([HealthProbe.Flag, "--urls", address], output);
        factory.Dispose(); // stops the server: the same address no longer answers
        var stopped = await HealthProbe.RunAsync([HealthProbe.Flag, "--urls", address], output);

        Assert.That((running, stopped), Is.EqualTo((0, 1)), output.ToString());
        Assert.That(output.ToString(), Does.StartWith("healthy: ").And.Contain("unhealthy: "));
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/readyz");
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>The worker loops start just after the host: wait until every one is counted.</summary>
    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadyWhenWorkersRunAsync(HttpClient client)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var (status, body) = await GetReadyAsync(client);
            var workers = body.GetProperty("checks").GetProperty("workers").GetProperty("status").GetString();
            if (workers == "healthy" || DateTime.UtcNow > deadline)
            {
                return (status, body);
            }

            await Task.Delay(20);
        }
    }
}

using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// Slow clients (slowloris) against the real Kestrel server: headers that never finish and bodies
/// that trickle are cut off by the server, and the service goes on serving everyone else. The
/// timeouts are shortened here so the tests are quick; the production values are checked in
/// <see cref="RequestHandlingTests.The_server_limits_on_slow_and_large_requests_are_set"/>.
/// </summary>
[TestFixture]
public sealed class SlowClientTests
{
    private ThumbnailApiFactory _factory = null!;
    private Uri _server = null!;

    [OneTimeSetUp]
    public void StartKestrel()
    {
        _factory = new ThumbnailApiFactory(services: s => s.Configure<KestrelServerOptions>(kestrel =>
        {
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(2);
            kestrel.Limits.MinRequestBodyDataRate = new(bytesPerSecond: 1024, gracePeriod: TimeSpan.FromSeconds(2));
        }));
        _factory.UseKestrel(0);
        _factory.StartServer();
        _server = _factory.ClientOptions.BaseAddress;
    }

    [OneTimeTearDown]
    public void StopKestrel() => _factory.Dispose();

    [Test]
    public async Task Headers_that_never_finish_are_cut_off_by_the_header_timeout()
    {
        using var connection = await RawHttpConnection.OpenAsync(_server);
        await connection.SendAsync($"POST {ApiClient.Api}/ HTTP/1.1\r\nHost: localhost\r\n");

        var closed = await TrickleUntilClosedAsync(connection, "X-Slow: a", TimeSpan.FromSeconds(30));

        Assert.That(closed, Is.True, "the server closed the connection");
        await AssertStillServesAsync();
    }

    [Test]
    public async Task A_body_that_trickles_below_the_minimum_rate_is_cut_off_and_nothing_is_kept()
    {
        using var connection = await RawHttpConnection.OpenAsync(_server);
        const string boundary = "slow";
        await connection.SendAsync(
            $"POST {ApiClient.Api}/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n" +
            $"Content-Length: 100000\r\n\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"slow.jpg\"\r\n\r\n");
        await connection.SendAsync([0xFF, 0xD8, 0xFF, 0xE0]);

        var closed = await TrickleUntilClosedAsync(connection, "x", TimeSpan.FromSeconds(30));

        Assert.That(closed, Is.True, "the server closed the connection");
        Assert.That(await Eventually.TrueAsync(() => Directory.GetFiles(_factory.UploadsPath).Length == 0), Is.True,
            "the half-received upload is removed");
        await AssertStillServesAsync();
    }

    /// <summary>Sends a byte every quarter second until the server hangs up (true) or the limit passes (false).</summary>
    private static async Task<bool> TrickleUntilClosedAsync(RawHttpConnection connection, string text, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        var bytes = System.Text.Encoding.ASCII.GetBytes(text);
        for (var i = 0; DateTime.UtcNow < until; i = (i + 1) % bytes.Length)
        {
            try
            {
                await connection.SendAsync([bytes[i]]);
            }
            catch (IOException)
            {
                return true;
            }

            if (await connection.ClosedByServerAsync(TimeSpan.FromMilliseconds(250)))
            {
                return true;
            }
        }

        return false;
    }

    private async Task AssertStillServesAsync()
    {
        using var client = _factory.CreateApiClient();
        var id = await client.UploadAsync(TestImages.Path("photo.jpg"));
        Assert.That((await client.WaitUntilFinishedAsync(id)).GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
    }
}

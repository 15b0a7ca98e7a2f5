using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using ThumbnailApi.Endpoints;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// The caps on uploads in progress at once, against the real Kestrel server so that clients have
/// their own addresses (127.0.0.x): per client address a 429 rate_limited, in total a 503
/// too_many_uploads, both with Retry-After and before the body is read; once the held uploads end,
/// uploads are taken again.
/// </summary>
[TestFixture]
public sealed class UploadConcurrencyTests
{
    [Test]
    public async Task An_upload_past_the_per_client_cap_is_a_429_rate_limited_with_retry_after_and_other_clients_go_on()
    {
        using var factory = StartKestrel(perClient: 2, total: 0);
        using var first = ClientFrom(factory, "127.0.0.1");
        using var other = ClientFrom(factory, "127.0.0.2");
        var held = await HoldUploadsAsync(factory, first, 2);

        using (var refused = await first.PostFileAsync(TestImages.Path("photo.jpg")))
        {
            var body = await ErrorResponseTests.AssertErrorAsync(refused, HttpStatusCode.TooManyRequests, "rate_limited");
            Assert.That(refused.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(body.GetProperty("message").GetString(), Does.Contain("2 uploads in progress"));
        }

        await other.UploadAsync(TestImages.Path("alpha.png"));
        await ReleaseAsync(held);
        await first.UploadAsync(TestImages.Path("photo.jpg"));
    }

    [Test]
    public async Task An_upload_past_the_total_cap_is_a_503_too_many_uploads_with_retry_after_until_the_held_ones_end()
    {
        using var factory = StartKestrel(perClient: 1, total: 2);
        using var first = ClientFrom(factory, "127.0.0.1");
        using var second = ClientFrom(factory, "127.0.0.2");
        using var third = ClientFrom(factory, "127.0.0.3");
        var held = (await HoldUploadsAsync(factory, first, 1)).Concat(await HoldUploadsAsync(factory, second, 1, alreadyHeld: 1)).ToList();

        using (var refused = await third.PostFileAsync(TestImages.Path("photo.jpg")))
        {
            var body = await ErrorResponseTests.AssertErrorAsync(refused, HttpStatusCode.ServiceUnavailable, "too_many_uploads");
            Assert.That(refused.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(body.GetProperty("message").GetString(), Does.Contain("2 uploads at once"));
        }

        Assert.That(factory.Services.GetRequiredService<UploadSlots>().InProgress, Is.EqualTo(2));
        await ReleaseAsync(held);
        Assert.That(factory.Services.GetRequiredService<UploadSlots>().InProgress, Is.Zero, "every slot is given back");
        await third.UploadAsync(TestImages.Path("photo.jpg"));
    }

    [Test]
    public async Task A_refused_upload_is_answered_before_its_body_is_read()
    {
        using var factory = StartKestrel(perClient: 1, total: 0);
        using var first = ClientFrom(factory, "127.0.0.1");
        var held = await HoldUploadsAsync(factory, first, 1);

        // Headers only: the body is declared but never sent, and the answer comes anyway.
        using var connection = await RawHttpConnection.OpenAsync(factory.ClientOptions.BaseAddress);
        await connection.SendAsync(
            $"POST {ApiClient.Api}/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 40000000\r\n\r\n");
        var response = await connection.ReadResponseAsync(TimeSpan.FromSeconds(10));

        Assert.That(RawHttpConnection.StatusOf(response), Is.EqualTo(429), response);
        Assert.That(response, Does.Contain("\"code\":\"rate_limited\"").And.Contain("Retry-After: 5"));
        await ReleaseAsync(held);
    }

    [Test]
    public async Task Zero_turns_both_caps_off()
    {
        using var factory = StartKestrel(perClient: 0, total: 0);
        using var client = ClientFrom(factory, "127.0.0.1");

        var held = await HoldUploadsAsync(factory, client, 12);

        await ReleaseAsync(held);
    }

    [Test]
    public void The_defaults_are_eight_per_client_and_sixty_four_in_all()
    {
        var defaults = new ServiceOptions();

        Assert.That((defaults.MaxConcurrentUploadsPerClient, defaults.MaxConcurrentUploads), Is.EqualTo((8, 64)));
    }

    private static ThumbnailApiFactory StartKestrel(int perClient, int total)
    {
        var factory = new ThumbnailApiFactory(new Dictionary<string, string?>
        {
            ["ThumbnailApi:MaxConcurrentUploadsPerClient"] = perClient.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ThumbnailApi:MaxConcurrentUploads"] = total.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        factory.UseKestrel(0);
        factory.StartServer();
        return factory;
    }

    /// <summary>A client whose connections come from <paramref name="localAddress"/> (any 127.x address is this machine).</summary>
    private static ApiClient ClientFrom(ThumbnailApiFactory factory, string localAddress)
    {
        var server = factory.ClientOptions.BaseAddress;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellation) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                socket.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), cancellation);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        return new ApiClient(new HttpClient(handler) { BaseAddress = server });
    }

    /// <summary>Starts <paramref name="count"/> uploads that stop short of their end, and waits until the service is writing each to disk.</summary>
    private static async Task<List<(HeldBackContent Body, Task<HttpResponseMessage> Response)>> HoldUploadsAsync(
        ThumbnailApiFactory factory, ApiClient client, int count, int alreadyHeld = 0)
    {
        var held = new List<(HeldBackContent, Task<HttpResponseMessage>)>();
        for (var i = 0; i < count; i++)
        {
            var body = await HeldBackContent.FromAsync(ApiClient.Form(TestImages.Bytes("photo.jpg"), "photo.jpg"));
            held.Add((body, client.Http.PostAsync($"{ApiClient.Api}/", body)));
        }

        Assert.That(await Eventually.TrueAsync(() => Directory.GetFiles(factory.UploadsPath).Length == alreadyHeld + count), Is.True,
            "the held uploads are being written");
        return held;
    }

    private static async Task ReleaseAsync(IEnumerable<(HeldBackContent Body, Task<HttpResponseMessage> Response)> held)
    {
        foreach (var (body, response) in held)
        {
            body.Release();
            using var answer = await response.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.That(answer.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await answer.Content.ReadAsStringAsync());
        }
    }
}

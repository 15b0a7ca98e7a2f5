using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using ThumbnailApi.Operations;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// X-Forwarded-For, -Proto and -Host are believed only from the configured proxies (KnownProxies,
/// KnownNetworks), against the real Kestrel server so that every connection has a remote address:
/// clients connect from different loopback addresses (127.0.0.2 plays the proxy).
/// </summary>
[TestFixture]
public sealed class TrustedProxyTests
{
    private const string Proxy = "127.0.0.2";
    private const string NotAProxy = "127.0.0.3";

    private static readonly Dictionary<string, string> SpoofedHeaders = new()
    {
        ["X-Forwarded-Host"] = "evil.example",
        ["X-Forwarded-Proto"] = "https",
        ["X-Forwarded-For"] = "203.0.113.66",
    };

    [Test]
    public async Task With_no_proxy_configured_a_client_s_forwarded_host_and_proto_are_ignored_in_the_status_url()
    {
        using var factory = StartKestrel();
        using var client = LoopbackClient.From(factory.ClientOptions.BaseAddress, "127.0.0.1", SpoofedHeaders);

        var statusUrl = await StatusUrlOfUploadAsync(client);

        Assert.That(statusUrl, Does.StartWith($"http://127.0.0.1:{factory.ClientOptions.BaseAddress.Port}{ApiClient.Api}/"));
    }

    [Test]
    public async Task A_client_that_is_not_a_configured_proxy_is_not_believed()
    {
        using var factory = StartKestrel(new() { ["ThumbnailApi:KnownProxies:0"] = Proxy });
        using var client = LoopbackClient.From(factory.ClientOptions.BaseAddress, NotAProxy, SpoofedHeaders);

        var statusUrl = await StatusUrlOfUploadAsync(client);

        Assert.That(statusUrl, Does.StartWith($"http://127.0.0.1:{factory.ClientOptions.BaseAddress.Port}{ApiClient.Api}/"));
    }

    [TestCase("ThumbnailApi:KnownProxies:0", Proxy, TestName = "The forwarded host and scheme from a known proxy make the status and thumbnail urls")]
    [TestCase("ThumbnailApi:KnownNetworks:0", "127.0.0.0/30", TestName = "The forwarded host and scheme from a proxy in a known network make the status and thumbnail urls")]
    public async Task Forwarded_host_and_scheme_from_a_trusted_proxy_are_used(string setting, string value)
    {
        using var factory = StartKestrel(new() { [setting] = value });
        using var proxy = LoopbackClient.From(factory.ClientOptions.BaseAddress, Proxy, new Dictionary<string, string>
        {
            ["X-Forwarded-Host"] = "thumbs.example:8443",
            ["X-Forwarded-Proto"] = "https",
            ["X-Forwarded-For"] = "203.0.113.7",
        });

        var statusUrl = await StatusUrlOfUploadAsync(proxy);
        var id = statusUrl[(statusUrl.LastIndexOf('/') + 1)..];
        var finished = await proxy.WaitUntilFinishedAsync(id);

        Assert.That(statusUrl, Is.EqualTo($"https://thumbs.example:8443{ApiClient.Api}/{id}"));
        Assert.That(finished.GetProperty("image").GetProperty("url").GetString(), Is.EqualTo($"https://thumbs.example:8443{ApiClient.Api}/{id}/thumbnail"));
    }

    [Test]
    public async Task Behind_a_trusted_proxy_each_forwarded_client_has_its_own_rate_limit_bucket()
    {
        using var factory = StartKestrel(new() { ["ThumbnailApi:KnownProxies:0"] = Proxy, ["ThumbnailApi:UploadsPerMinutePerClient"] = "1" });
        using var first = ForwardedFor(factory, Proxy, "203.0.113.1");
        using var second = ForwardedFor(factory, Proxy, "203.0.113.2");

        Assert.That(await StatusOfUploadAsync(first), Is.EqualTo(HttpStatusCode.Accepted));
        Assert.That(await StatusOfUploadAsync(first), Is.EqualTo(HttpStatusCode.TooManyRequests), "the first client used its one upload");
        Assert.That(await StatusOfUploadAsync(second), Is.EqualTo(HttpStatusCode.Accepted), "the second client has a bucket of its own");
    }

    [Test]
    public async Task A_client_cannot_get_a_new_bucket_by_writing_its_own_x_forwarded_for_through_the_proxy()
    {
        // The proxy appends the address it saw; what the client wrote stays on the left and is not believed.
        using var factory = StartKestrel(new() { ["ThumbnailApi:KnownProxies:0"] = Proxy, ["ThumbnailApi:UploadsPerMinutePerClient"] = "1" });
        using var once = ForwardedFor(factory, Proxy, "198.51.100.1, 203.0.113.1");
        using var again = ForwardedFor(factory, Proxy, "198.51.100.2, 203.0.113.1");

        Assert.That(await StatusOfUploadAsync(once), Is.EqualTo(HttpStatusCode.Accepted));
        Assert.That(await StatusOfUploadAsync(again), Is.EqualTo(HttpStatusCode.TooManyRequests));
    }

    [Test]
    public async Task Only_the_address_the_proxy_appended_is_read_even_when_the_address_before_it_is_trusted_too()
    {
        // nginx saw the client as 127.0.0.9 (say, a container network's gateway, inside the trusted range) and
        // appended it to what the client sent: the client's own entries must not become its key.
        using var factory = StartKestrel(new() { ["ThumbnailApi:KnownNetworks:0"] = "127.0.0.0/8", ["ThumbnailApi:UploadsPerMinutePerClient"] = "1" });
        using var once = ForwardedFor(factory, Proxy, "198.51.100.1, 127.0.0.9");
        using var again = ForwardedFor(factory, Proxy, "198.51.100.2, 127.0.0.9");

        Assert.That(await StatusOfUploadAsync(once), Is.EqualTo(HttpStatusCode.Accepted));
        Assert.That(await StatusOfUploadAsync(again), Is.EqualTo(HttpStatusCode.TooManyRequests));
    }

    [Test]
    public async Task From_an_untrusted_address_different_x_forwarded_for_values_share_the_connection_s_bucket()
    {
        using var factory = StartKestrel(new() { ["ThumbnailApi:KnownProxies:0"] = Proxy, ["ThumbnailApi:UploadsPerMinutePerClient"] = "1" });
        using var first = ForwardedFor(factory, NotAProxy, "203.0.113.1");
        using var second = ForwardedFor(factory, NotAProxy, "203.0.113.2");

        Assert.That(await StatusOfUploadAsync(first), Is.EqualTo(HttpStatusCode.Accepted));
        Assert.That(await StatusOfUploadAsync(second), Is.EqualTo(HttpStatusCode.TooManyRequests));
    }

    [Test]
    public async Task Behind_a_trusted_proxy_the_cap_on_uploads_in_progress_counts_each_forwarded_client()
    {
        using var factory = StartKestrel(new() { ["ThumbnailApi:KnownProxies:0"] = Proxy, ["ThumbnailApi:MaxConcurrentUploadsPerClient"] = "1" });
        using var first = ForwardedFor(factory, Proxy, "203.0.113.1");
        using var second = ForwardedFor(factory, Proxy, "203.0.113.2");
        var held = await HeldBackContent.FromAsync(ApiClient.Form(TestImages.Bytes("photo.jpg"), "photo.jpg"));
        var heldResponse = first.Http.PostAsync($"{ApiClient.Api}/", held);
        Assert.That(await Eventually.TrueAsync(() => Directory.GetFiles(factory.UploadsPath).Length == 1), Is.True, "the held upload is being written");

        Assert.That(await StatusOfUploadAsync(first), Is.EqualTo(HttpStatusCode.TooManyRequests), "the first client has its one upload in progress");
        Assert.That(await StatusOfUploadAsync(second), Is.EqualTo(HttpStatusCode.Accepted), "the second client is not counted with the first");

        held.Release();
        using var answer = await heldResponse.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(answer.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
    }

    [TestCase("ThumbnailApi:KnownNetworks:0", "10.0.0.0/33")]
    [TestCase("ThumbnailApi:KnownNetworks:0", "10.0.0.5/8")]
    [TestCase("ThumbnailApi:KnownNetworks:0", "10.0.0.0")]
    [TestCase("ThumbnailApi:KnownNetworks:0", "nginx/24")]
    [TestCase("ThumbnailApi:KnownProxies:0", "172.16.0.0/12")]
    [TestCase("ThumbnailApi:KnownProxies:0", "nginx")]
    [TestCase("ThumbnailApi:KnownProxies:0", "10")]
    public void A_bad_proxy_setting_stops_start_up_with_a_message_naming_the_setting_and_the_value(string setting, string value)
    {
        using var factory = new ThumbnailApiFactory(new Dictionary<string, string?> { [setting] = value });

        var problem = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        var name = setting[..setting.LastIndexOf(':')];
        Assert.That(problem!.Message, Does.Contain(name).And.Contain($"\"{value}\""));
    }

    [Test]
    public void Good_proxy_settings_of_both_kinds_and_both_families_are_taken()
    {
        var options = new ServiceOptions
        {
            KnownProxies = ["10.0.0.5", "fd00::5", "::ffff:10.0.0.6"],
            KnownNetworks = ["172.16.0.0/12", "fd00::/8", "0.0.0.0/0"],
        };
        var forwarded = new ForwardedHeadersOptions();

        ForwardedHeadersSetup.Apply(forwarded, options);

        Assert.That(forwarded.KnownProxies.Select(p => p.ToString()), Is.EqualTo(options.KnownProxies));
        Assert.That(forwarded.KnownIPNetworks.Select(n => n.ToString()), Is.EqualTo(options.KnownNetworks));
        Assert.That(forwarded.ForwardedHeaders, Is.EqualTo(ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost));
        Assert.That(forwarded.ForwardLimit, Is.EqualTo(1), "only the entry the proxy appended");
    }

    [Test]
    public void By_default_no_proxy_is_trusted_and_no_forwarded_header_is_applied()
    {
        var forwarded = new ForwardedHeadersOptions();

        ForwardedHeadersSetup.Apply(forwarded, new ServiceOptions());

        Assert.That((forwarded.ForwardedHeaders, forwarded.KnownProxies.Count, forwarded.KnownIPNetworks.Count), Is.EqualTo((ForwardedHeaders.None, 0, 0)),
            "ASP.NET Core's own default trusts loopback, and with both lists empty it would trust everyone");
    }

    private static ThumbnailApiFactory StartKestrel(Dictionary<string, string?>? settings = null)
    {
        var factory = new ThumbnailApiFactory(settings);
        factory.UseKestrel(0);
        factory.StartServer();
        return factory;
    }

    private static ApiClient ForwardedFor(ThumbnailApiFactory factory, string from, string forwardedFor) =>
        LoopbackClient.From(factory.ClientOptions.BaseAddress, from, new Dictionary<string, string> { ["X-Forwarded-For"] = forwardedFor });

    private static async Task<string> StatusUrlOfUploadAsync(ApiClient client)
    {
        using var response = await client.PostFileAsync(TestImages.Path("photo.jpg"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), body);
        return JsonDocument.Parse(body).RootElement.GetProperty("status_url").GetString()!;
    }

    private static async Task<HttpStatusCode> StatusOfUploadAsync(ApiClient client)
    {
        using var response = await client.PostFileAsync(TestImages.Path("photo.jpg"));
        return response.StatusCode;
    }
}

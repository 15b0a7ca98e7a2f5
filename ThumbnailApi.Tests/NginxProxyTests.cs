using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// The committed nginx.conf, run by Debian's nginx in front of the service on a real Kestrel port
/// (Support/NginxProxy): the links in the answers use the host and scheme the client used with nginx,
/// uploads stream through to the instance, long-polls are not cut, a body over the limit gets the
/// service's JSON 413, and only requests that never reached an instance are retried on another
/// (never a POST that was sent). The instance trusts nginx's address (127.0.0.1) as its proxy.
/// </summary>
[TestFixture]
public sealed class NginxProxyTests
{
    private static readonly Dictionary<string, string?> TrustNginx = new() { ["ThumbnailApi:KnownProxies:0"] = "127.0.0.1" };

    private ThumbnailApiFactory _service = null!;
    private NginxProxy _nginx = null!;

    [OneTimeSetUp]
    public async Task StartServiceBehindNginx()
    {
        Requires.Nginx();
        _service = StartKestrel(TrustNginx);
        _nginx = await NginxProxy.StartAsync([_service.ClientOptions.BaseAddress]);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _nginx?.Dispose();
        _service?.Dispose();
    }

    [Test]
    public void The_tested_config_is_the_committed_nginx_conf_with_only_the_upstream_servers_the_listen_line_and_temp_paths_changed()
    {
        var committed = NginxConfig.Committed;
        var tested = NginxConfig.ForTest(committed, ["127.0.0.1:5001", "127.0.0.1:5002"], 8123, "/tmp/x");

        var removed = committed.Split('\n').Except(tested.Split('\n')).ToList();
        var added = tested.Split('\n').Except(committed.Split('\n')).ToList();

        Assert.That(removed.Select(line => line.Trim()), Is.EqualTo(new[] { "server app1:8000;", "server app2:8000;", "server app3:8000;", "listen 8000; # listen" }));
        Assert.That(added.Select(line => line.Trim()), Is.EqualTo(new[]
        {
            "client_body_temp_path /tmp/x/client_body;", "proxy_temp_path /tmp/x/proxy;", "fastcgi_temp_path /tmp/x/fastcgi;",
            "uwsgi_temp_path /tmp/x/uwsgi;", "scgi_temp_path /tmp/x/scgi;",
            "server 127.0.0.1:5001;", "server 127.0.0.1:5002;", "listen 127.0.0.1:8123; # listen",
        }));
        Assert.That(tested.Split('\n').Length, Is.EqualTo(committed.Split('\n').Length + 5 - 1), "every other line is kept, in its place");
    }

    [Test]
    public async Task An_upload_through_nginx_gets_a_202_whose_status_url_uses_the_host_and_scheme_the_client_used()
    {
        using var client = new ApiClient(new HttpClient { BaseAddress = _nginx.BaseAddress });
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{ApiClient.Api}/") { Content = ApiClient.Form(TestImages.Bytes("photo.jpg"), "photo.jpg") };
        request.Headers.Host = "thumbs.example:8000";

        using var response = await client.Http.SendAsync(request);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), body.ToString());
        var id = body.GetProperty("task_id").GetString();
        Assert.That(body.GetProperty("status_url").GetString(), Is.EqualTo($"http://thumbs.example:8000{ApiClient.Api}/{id}"),
            "nginx passes the Host the client used, port included (X-Forwarded-Host), and its scheme (X-Forwarded-Proto)");
        var finished = await client.WaitUntilFinishedAsync(id!);
        Assert.That(finished.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
    }

    [Test]
    public async Task A_client_s_own_x_forwarded_host_does_not_get_through_nginx()
    {
        using var client = new ApiClient(new HttpClient { BaseAddress = _nginx.BaseAddress });
        client.Http.DefaultRequestHeaders.Add("X-Forwarded-Host", "evil.example");
        client.Http.DefaultRequestHeaders.Add("X-Forwarded-Proto", "https");

        using var response = await client.PostFileAsync(TestImages.Path("photo.jpg"));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), body.ToString());
        Assert.That(body.GetProperty("status_url").GetString(), Does.StartWith($"http://{_nginx.BaseAddress.Authority}{ApiClient.Api}/"));
    }

    [Test]
    public async Task A_40_mb_upload_streams_through_nginx_to_the_instance_as_it_is_sent()
    {
        var bmp = LargeBmp(3750, 3750);
        Assert.That(bmp.Length, Is.GreaterThan(40 * 1024 * 1024));
        using var client = new ApiClient(new HttpClient { BaseAddress = _nginx.BaseAddress, Timeout = TimeSpan.FromMinutes(2) });
        var body = await HeldBackContent.FromAsync(ApiClient.Form(bmp, "big.bmp"));
        var sent = Stopwatch.StartNew();

        var answer = client.Http.PostAsync($"{ApiClient.Api}/", body);

        // All but the last 200 bytes are sent and the client waits: with request buffering off, the
        // instance already has almost all of it on its disk (a buffering proxy would still hold it all).
        Assert.That(await Eventually.TrueAsync(() => UploadedBytes(_service) > bmp.Length - 1024 * 1024, TimeSpan.FromSeconds(60)), Is.True,
            $"the instance received {UploadedBytes(_service)} bytes before the client finished{Environment.NewLine}{_nginx.RecentOutput}");
        Assert.That(answer.IsCompleted, Is.False, "no answer before the body is complete");
        body.Release();
        using var response = await answer.WaitAsync(TimeSpan.FromSeconds(60));
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        TestContext.Out.WriteLine($"{bmp.Length:N0} bytes through nginx in {sent.Elapsed.TotalSeconds:F2} s");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), json.ToString());
        var finished = await client.WaitUntilFinishedAsync(json.GetProperty("task_id").GetString()!, TimeSpan.FromSeconds(60));
        Assert.That(finished.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"), finished.ToString());
    }

    [Test]
    public async Task A_body_declared_over_the_upload_limit_is_refused_by_nginx_with_the_service_s_json_413()
    {
        using var connection = await RawHttpConnection.OpenAsync(_nginx.BaseAddress);

        await connection.SendAsync($"POST {ApiClient.Api}/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: {60L * 1024 * 1024}\r\n\r\n");
        var response = await connection.ReadResponseAsync(TimeSpan.FromSeconds(10));

        Assert.That(RawHttpConnection.StatusOf(response), Is.EqualTo(413), response);
        Assert.That(response, Does.Contain("Content-Type: application/json; charset=utf-8").And.Contain("X-Content-Type-Options: nosniff"));
        var json = JsonDocument.Parse(response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]).RootElement;
        Assert.That(json.GetProperty("code").GetString(), Is.EqualTo("file_too_large"));
        Assert.That(json.GetProperty("message").GetString(), Does.Contain($"{new ServiceOptions().MaxUploadBytes:N0} bytes"),
            "the limit nginx names is the service's default MaxUploadBytes");
    }

    [Test]
    public async Task A_long_poll_of_20_s_through_nginx_is_answered_when_the_task_finishes_15_s_later()
    {
        using var gate = new GatedThumbnailer();
        using var service = StartKestrel(TrustNginx, s => s.AddSingleton<IThumbnailer>(gate));
        using var nginx = await NginxProxy.StartAsync([service.ClientOptions.BaseAddress]);
        using var client = new ApiClient(new HttpClient { BaseAddress = nginx.BaseAddress });
        var id = await client.UploadAsync(TestImages.Path("photo.jpg"));
        await gate.WaitUntilHeldAsync();

        var waited = Stopwatch.StartNew();
        var longPoll = client.GetStatusAsync(id, wait: "20");
        await Task.Delay(TimeSpan.FromSeconds(15)); // the task stays at the gate: the request is held this long
        Assert.That(longPoll.IsCompleted, Is.False, "still held after 15 s");
        var opened = waited.Elapsed;
        gate.Open();
        var (status, body) = await longPoll.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body.ToString());
        Assert.That(body.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"), body.ToString());
        Assert.That(waited.Elapsed - opened, Is.LessThan(TimeSpan.FromSeconds(3)), "answered as the task finished, not at the end of the wait");
    }

    [Test]
    public async Task Behind_nginx_two_clients_have_separate_rate_limit_buckets()
    {
        using var service = StartKestrel(new Dictionary<string, string?>(TrustNginx) { ["ThumbnailApi:UploadsPerMinutePerClient"] = "1" });
        using var nginx = await NginxProxy.StartAsync([service.ClientOptions.BaseAddress]);
        using var first = LoopbackClient.From(nginx.BaseAddress, "127.0.0.2");
        using var second = LoopbackClient.From(nginx.BaseAddress, "127.0.0.3");

        Assert.That(await StatusOfUploadAsync(first), Is.EqualTo(HttpStatusCode.Accepted));
        Assert.That(await StatusOfUploadAsync(first), Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(await StatusOfUploadAsync(second), Is.EqualTo(HttpStatusCode.Accepted), "nginx's X-Forwarded-For names each client");
    }

    [Test]
    public async Task An_upload_to_an_instance_that_refuses_connections_is_passed_to_the_next_one()
    {
        var closedPort = FreePort.OnLoopback(); // nothing listens there: an instance that is down
        using var nginx = await NginxProxy.StartAsync([new Uri($"http://127.0.0.1:{closedPort}/"), _service.ClientOptions.BaseAddress]);
        using var client = new ApiClient(new HttpClient { BaseAddress = nginx.BaseAddress });

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add(await StatusOfUploadAsync(client));
        }

        Assert.That(answers, Is.All.EqualTo(HttpStatusCode.Accepted), nginx.RecentOutput);
        Assert.That(nginx.RecentOutput, Does.Contain("Connection refused"), "the down instance was tried first");
    }

    [Test]
    public async Task A_post_that_reached_an_instance_which_then_died_is_not_sent_to_another_one()
    {
        using var dying = new FailingUpstream();
        using var nginx = await NginxProxy.StartAsync([dying.BaseAddress, _service.ClientOptions.BaseAddress]);
        using var client = new ApiClient(new HttpClient { BaseAddress = nginx.BaseAddress });
        var tasksBefore = TaskCount(_service);

        // nginx's first pick among idle instances is the first listed: the dying one.
        var status = await StatusOfUploadAsync(client);

        Assert.That(dying.Received, Is.EqualTo(new[] { "POST" }), nginx.RecentOutput);
        Assert.That(status, Is.EqualTo(HttpStatusCode.BadGateway), "the client is told, and may retry with an Idempotency-Key");
        Assert.That(TaskCount(_service), Is.EqualTo(tasksBefore), "no second copy of the upload was made on the other instance");
    }

    [Test]
    public async Task A_get_that_reached_an_instance_which_then_died_is_answered_by_another_one()
    {
        using var dying = new FailingUpstream();
        using var nginx = await NginxProxy.StartAsync([dying.BaseAddress, _service.ClientOptions.BaseAddress]);
        using var http = new HttpClient { BaseAddress = nginx.BaseAddress };

        using var response = await http.GetAsync("/healthz");

        Assert.That(dying.Received, Is.EqualTo(new[] { "GET" }), nginx.RecentOutput);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    private static ThumbnailApiFactory StartKestrel(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var factory = new ThumbnailApiFactory(settings, services);
        factory.UseKestrel(0);
        factory.StartServer();
        return factory;
    }

    private static async Task<HttpStatusCode> StatusOfUploadAsync(ApiClient client)
    {
        using var response = await client.PostFileAsync(TestImages.Path("photo.jpg"));
        return response.StatusCode;
    }

    private static long UploadedBytes(ThumbnailApiFactory factory) =>
        Directory.Exists(factory.UploadsPath) ? Directory.GetFiles(factory.UploadsPath).Sum(file => new FileInfo(file).Length) : 0;

    private static long TaskCount(ThumbnailApiFactory factory)
    {
        using var database = factory.OpenDatabase();
        using var count = database.CreateCommand();
        count.CommandText = "SELECT count(*) FROM tasks";
        return (long)count.ExecuteScalar()!;
    }

    /// <summary>A 24-bit uncompressed BMP of a colour gradient: a valid image of about 3 bytes a pixel.</summary>
    private static byte[] LargeBmp(int width, int height)
    {
        var rowBytes = (width * 3 + 3) & ~3;
        var bytes = new byte[54 + rowBytes * height];
        void Int(int at, int value) => BitConverter.TryWriteBytes(bytes.AsSpan(at), value);
        bytes[0] = (byte)'B';
        bytes[1] = (byte)'M';
        Int(2, bytes.Length);
        Int(10, 54);
        Int(14, 40);
        Int(18, width);
        Int(22, height);
        bytes[26] = 1;
        bytes[28] = 24;
        Int(34, rowBytes * height);
        for (var y = 0; y < height; y++)
        {
            var row = 54 + y * rowBytes;
            for (var x = 0; x < width; x++)
            {
                bytes[row + x * 3] = (byte)(x * 255 / width);
                bytes[row + x * 3 + 1] = (byte)(y * 255 / height);
                bytes[row + x * 3 + 2] = (byte)((x + y) & 0xFF);
            }
        }

        return bytes;
    }
}

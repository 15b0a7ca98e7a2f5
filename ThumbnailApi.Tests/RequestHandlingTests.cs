using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// Broken and hostile requests against the real Kestrel server on a free port: oversized bodies
/// are cut off without being read to the end, odd multipart bodies and file names are answered
/// cleanly, and slow clients are disconnected by the server's timeouts.
/// </summary>
[TestFixture]
public sealed class RequestHandlingTests
{
    private const string Boundary = "----thumbnail-test-boundary";

    private ThumbnailApiFactory _factory = null!;
    private ApiClient _client = null!;
    private Uri _server = null!;

    [OneTimeSetUp]
    public void StartKestrel()
    {
        _factory = new ThumbnailApiFactory(new Dictionary<string, string?> { ["ThumbnailApi:MaxUploadBytes"] = "200000" });
        _factory.UseKestrel(0);
        _factory.StartServer();
        _server = _factory.ClientOptions.BaseAddress;
        _client = _factory.CreateApiClient();
    }

    [OneTimeTearDown]
    public void StopKestrel()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [Test]
    public async Task A_declared_body_over_the_limit_is_a_413_before_any_of_it_is_sent_and_the_server_hangs_up()
    {
        using var connection = await RawHttpConnection.OpenAsync(_server);

        await connection.SendAsync(
            $"POST {ApiClient.Api}/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary={Boundary}\r\n" +
            "Content-Length: 10000000000\r\n\r\n");
        var response = await connection.ReadResponseAsync(TimeSpan.FromSeconds(10));

        Assert.That(RawHttpConnection.StatusOf(response), Is.EqualTo(413), response);
        Assert.That(response, Does.Contain("\"code\":\"file_too_large\""));
        Assert.That(await connection.ClosedByServerAsync(TimeSpan.FromSeconds(20)), Is.True,
            "the server does not wait for ten gigabytes it will not use");
    }

    [Test]
    public async Task A_streamed_body_over_the_limit_is_a_413_and_is_not_read_to_the_end()
    {
        const long wouldSend = 100L * 1024 * 1024;
        using var connection = await RawHttpConnection.OpenAsync(_server);
        await connection.SendAsync(
            $"POST {ApiClient.Api}/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary={Boundary}\r\n" +
            "Transfer-Encoding: chunked\r\n\r\n");
        var head = PartHead("image", "filename=\"big.jpg\"");
        await connection.SendAsync(Chunk([.. head, 0xFF, 0xD8, 0xFF, 0xE0]));

        var response = connection.ReadResponseAsync(TimeSpan.FromSeconds(60));
        var filler = Chunk(new byte[64 * 1024]);
        long sent = 0;
        try
        {
            while (sent < wouldSend && !response.IsCompleted)
            {
                await connection.SendAsync(filler);
                sent += filler.Length;
            }
        }
        catch (IOException)
        {
            // The server hung up: exactly what should happen.
        }

        var answer = await response;
        TestContext.Out.WriteLine($"sent {sent:N0} of {wouldSend:N0} bytes before the server answered or hung up");
        Assert.That(RawHttpConnection.StatusOf(answer), Is.EqualTo(413), answer);
        Assert.That(sent, Is.LessThan(wouldSend / 4), "the server stopped reading near the limit");
        Assert.That(await Eventually.TrueAsync(() => Directory.GetFiles(_factory.UploadsPath).Length == 0), Is.True, "nothing is kept");
    }

    [Test]
    public async Task When_a_form_has_several_image_parts_the_first_is_used_and_the_rest_ignored()
    {
        var body = Multipart(
            (PartHead("image", "filename=\"first.jpg\""), TestImages.Bytes("photo.jpg")),
            (PartHead("image", "filename=\"second.png\""), TestImages.Bytes("alpha.png")),
            (PartHead("image", "filename=\"third.txt\""), "not an image"u8.ToArray()));

        var (status, json) = await PostRawAsync(body);

        Assert.That(status, Is.EqualTo(HttpStatusCode.Accepted), json.ToString());
        var finished = await _client.WaitUntilFinishedAsync(json.GetProperty("task_id").GetString()!);
        Assert.That(finished.GetProperty("image").GetProperty("name").GetString(), Is.EqualTo("first.jpg"));
        Assert.That(finished.GetProperty("image").GetProperty("content_type").GetString(), Is.EqualTo("image/jpeg"));
    }

    [TestCase("filename=\"../../etc/passwd\"", "passwd")]
    [TestCase("filename=\"..\\\\..\\\\windows\\\\win.ini\"", "win.ini")]
    [TestCase("filename=\"..\"", "image")]
    [TestCase("filename=\"a\tb\u0001c\u007f.jpg\"", "abc.jpg")]
    [TestCase("filename=\"<img src=x onerror=alert(1)>.jpg\"", "<img src=x onerror=alert(1)>.jpg")]
    [TestCase("filename=\"say \\\"cheese\\\".jpg\"", "say \"cheese\".jpg")]
    [TestCase("filename*=UTF-8''%D1%84%D0%BE%D1%82%D0%BE%20%F0%9F%93%B7.jpg", "фото 📷.jpg")]
    public async Task A_hostile_file_name_is_reduced_to_a_plain_name_returned_json_escaped_and_never_used_as_a_path(string disposition, string expected)
    {
        var (status, accepted) = await PostRawAsync(Multipart((PartHead("image", disposition), TestImages.Bytes("photo.jpg"))));
        Assert.That(status, Is.EqualTo(HttpStatusCode.Accepted), accepted.ToString());
        var id = accepted.GetProperty("task_id").GetString()!;

        await _client.WaitUntilFinishedAsync(id);
        using var raw = await _client.Http.GetAsync($"{ApiClient.Api}/{id}");
        var text = await raw.Content.ReadAsStringAsync();

        Assert.That(JsonDocument.Parse(text).RootElement.GetProperty("image").GetProperty("name").GetString(), Is.EqualTo(expected));
        Assert.That(text, Does.Not.Contain("<img"), "markup never appears raw");
        Assert.That(text.Any(char.IsControl), Is.False, "control characters never appear");
        Assert.That(Directory.GetFiles(_factory.ThumbnailsPath).Select(Path.GetFileName), Has.All.Match("^[0-9a-f]{64}\\.(jpg|png|webp)$"));
    }

    [TestCase("filename=\"\u202Egnp.exe\"", "gnp.exe")]
    [TestCase("filename*=UTF-8''%E2%80%AEgnp.exe", "gnp.exe")]
    [TestCase("filename=\"a\u202Ab\u202Bc\u202Cd\u202De\u2066f\u2067g\u2068h\u2069i.png\"", "abcdefghi.png")]
    [TestCase("filename=\"\u200Ex\u200F\u061Cy\u200Bz\u2060\uFEFF\u00AD.png\"", "xyz.png")]
    [TestCase("filename=\"line\u2028break\u2029.png\"", "linebreak.png")]
    [TestCase("filename=\"\u3164\u115F.png\"", ".png")]
    [TestCase("filename*=UTF-8''secret%F3%A0%81%A9%F3%A0%81%A7.png", "secret.png")]
    [TestCase("filename=\"\u200Dx\u200D\u200D.png\"", "x.png")]
    [TestCase("filename=\"\U0001F469\u200D\U0001F4BB.png\"", "\U0001F469\u200D\U0001F4BB.png")]
    [TestCase("filename=\"\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645.png\"", "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645.png")]
    public async Task Bidirectional_and_invisible_format_characters_are_removed_from_the_file_name(string disposition, string expected)
    {
        var (status, accepted) = await PostRawAsync(Multipart((PartHead("image", disposition), TestImages.Bytes("photo.jpg"))));
        Assert.That(status, Is.EqualTo(HttpStatusCode.Accepted), accepted.ToString());

        var finished = await _client.WaitUntilFinishedAsync(accepted.GetProperty("task_id").GetString()!);

        Assert.That(finished.GetProperty("image").GetProperty("name").GetString(), Is.EqualTo(expected));
    }

    [Test]
    public async Task A_form_with_more_than_32_parts_is_a_400_that_says_so_not_that_the_image_is_missing()
    {
        var fields = Enumerable.Range(0, 32).Select(i => (PartHead($"note{i}", "x=\"y\""), "z"u8.ToArray()));
        var body = Multipart([.. fields, (PartHead("image", "filename=\"photo.jpg\""), TestImages.Bytes("photo.jpg"))]);

        var (status, json) = await PostRawAsync(body);

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest), json.ToString());
        Assert.That(json.GetProperty("code").GetString(), Is.EqualTo("missing_image"));
        Assert.That(json.GetProperty("message").GetString(), Does.Contain("more than 32 parts").And.Not.Contain("No file part"));
        Assert.That(await Eventually.TrueAsync(() => Directory.GetFiles(_factory.UploadsPath).Length == 0), Is.True, "nothing is kept");
    }

    [Test]
    public async Task A_form_of_exactly_32_parts_with_the_image_last_is_accepted()
    {
        var fields = Enumerable.Range(0, 31).Select(i => (PartHead($"note{i}", "x=\"y\""), "z"u8.ToArray()));
        var body = Multipart([.. fields, (PartHead("image", "filename=\"photo.jpg\""), TestImages.Bytes("photo.jpg"))]);

        var (status, json) = await PostRawAsync(body);

        Assert.That(status, Is.EqualTo(HttpStatusCode.Accepted), json.ToString());
    }

    [TestCase("filename*=UTF-8''%0d%0a", "image")]
    [TestCase("filename*=UTF-8''%0d%0ainfo.png", "info.png")]
    public async Task An_encoded_line_break_as_the_file_name_is_accepted_and_removed(string disposition, string expected)
    {
        var (status, accepted) = await PostRawAsync(Multipart((PartHead("image", disposition), TestImages.Bytes("photo.jpg"))));
        Assert.That(status, Is.EqualTo(HttpStatusCode.Accepted), accepted.ToString());

        var finished = await _client.WaitUntilFinishedAsync(accepted.GetProperty("task_id").GetString()!);

        Assert.That(finished.GetProperty("image").GetProperty("name").GetString(), Is.EqualTo(expected));
    }

    [TestCase("Content-Disposition: form-data; name=\"image\"; filename=a b.jpg")]
    [TestCase("Content-Disposition: form-data; name=\"image\"; filename=\"a\"b.jpg\"")]
    [TestCase("Content-Disposition: form-data; name=\"image\";; filename=\"a.jpg\"")]
    [TestCase("Content-Disposition: attachment; name=\"image\"; filename=\"a.jpg\"")]
    [TestCase("Content-Type: image/jpeg")]
    public async Task A_part_whose_content_disposition_cannot_be_read_is_a_400_that_says_so(string header)
    {
        var head = Encoding.UTF8.GetBytes($"--{Boundary}\r\n{header}\r\n\r\n");

        var (status, json) = await PostRawAsync(Multipart((head, TestImages.Bytes("photo.jpg"))));

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest), json.ToString());
        Assert.That(json.GetProperty("code").GetString(), Is.EqualTo("missing_image"));
        Assert.That(json.GetProperty("message").GetString(), Does.Contain("Part 1").And.Contain("Content-Disposition").And.Not.Contain("No file part"));
    }

    [Test]
    public async Task A_file_name_of_ten_thousand_characters_is_cut_to_255()
    {
        var name = new string('n', 9996) + ".jpg";

        var (status, accepted) = await PostRawAsync(Multipart((PartHead("image", $"filename=\"{name}\""), TestImages.Bytes("photo.jpg"))));

        Assert.That(status, Is.EqualTo(HttpStatusCode.Accepted), accepted.ToString());
        var finished = await _client.WaitUntilFinishedAsync(accepted.GetProperty("task_id").GetString()!);
        Assert.That(finished.GetProperty("image").GetProperty("name").GetString(), Is.EqualTo(name[..255]));
    }

    [TestCase("multipart/form-data")]
    [TestCase("multipart/form-data; boundary=")]
    [TestCase("multipart/form-data; boundary=" + "b")]
    [TestCase("application/x-www-form-urlencoded")]
    [TestCase("image/jpeg")]
    public async Task A_body_that_is_not_the_multipart_form_it_claims_is_a_400(string contentType)
    {
        var body = Multipart((PartHead("image", "filename=\"photo.jpg\""), TestImages.Bytes("photo.jpg")));

        using var response = await PostRawResponseAsync(body, contentType);

        await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "missing_image");
    }

    [Test]
    public async Task A_boundary_longer_than_200_characters_is_a_400()
    {
        var boundary = new string('x', 201);
        var body = Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n\r\n")
            .Concat(TestImages.Bytes("photo.jpg")).Concat(Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n")).ToArray();

        using var response = await PostRawResponseAsync(body, $"multipart/form-data; boundary={boundary}");

        await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "missing_image");
    }

    [Test]
    public async Task A_multipart_body_without_its_closing_boundary_is_a_400_and_nothing_is_kept()
    {
        var body = PartHead("image", "filename=\"photo.jpg\"").Concat(TestImages.Bytes("photo.jpg")).ToArray();

        using var response = await PostRawResponseAsync(body, $"multipart/form-data; boundary={Boundary}");

        await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "missing_image");
        Assert.That(await Eventually.TrueAsync(() => Directory.GetFiles(_factory.UploadsPath).Length == 0), Is.True);
    }

    [Test]
    public async Task A_wrong_field_name_is_a_400_that_says_which_name_to_use()
    {
        var (status, body) = await PostRawAsync(Multipart((PartHead("file", "filename=\"photo.jpg\""), TestImages.Bytes("photo.jpg"))));

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(body.GetProperty("code").GetString(), Is.EqualTo("missing_image"));
        Assert.That(body.GetProperty("message").GetString(), Does.Contain("'image'"));
    }

    [Test]
    public void The_server_limits_on_slow_and_large_requests_are_set()
    {
        var limits = _factory.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Multiple(() =>
        {
            Assert.That(limits.RequestHeadersTimeout, Is.EqualTo(TimeSpan.FromSeconds(15)));
            Assert.That(limits.MinRequestBodyDataRate?.BytesPerSecond, Is.EqualTo(1024));
            Assert.That(limits.MinRequestBodyDataRate?.GracePeriod, Is.EqualTo(TimeSpan.FromSeconds(10)));
            Assert.That(limits.MaxRequestBodySize, Is.EqualTo(1024 * 1024), "raised per upload request only");
        });
    }

    /// <summary>The opening of a form part: boundary line and headers.</summary>
    private static byte[] PartHead(string name, string fileName) =>
        Encoding.UTF8.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; {fileName}\r\nContent-Type: application/octet-stream\r\n\r\n");

    private static byte[] Multipart(params (byte[] Head, byte[] Content)[] parts)
    {
        var body = new List<byte>();
        foreach (var (head, content) in parts)
        {
            body.AddRange(head);
            body.AddRange(content);
            body.AddRange("\r\n"u8.ToArray());
        }

        body.AddRange(Encoding.ASCII.GetBytes($"--{Boundary}--\r\n"));
        return body.ToArray();
    }

    private static byte[] Chunk(byte[] data) =>
        [.. Encoding.ASCII.GetBytes($"{data.Length:X}\r\n"), .. data, .. "\r\n"u8.ToArray()];

    private Task<HttpResponseMessage> PostRawResponseAsync(byte[] body, string contentType = $"multipart/form-data; boundary={Boundary}")
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return _client.Http.PostAsync($"{ApiClient.Api}/", content);
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostRawAsync(byte[] body)
    {
        using var response = await PostRawResponseAsync(body);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }
}

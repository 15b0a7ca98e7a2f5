using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using ThumbnailApi.Endpoints;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// What Kestrel refuses in its parser, before any middleware runs (414, 431, a malformed
/// Content-Length, headers that never finish), against the real server: the same JSON error body as
/// every other error. And what must stay untouched: keep-alive and pipelined responses, HEAD answers.
/// </summary>
[TestFixture]
public sealed class KestrelRejectionTests
{
    private ThumbnailApiFactory _factory = null!;
    private Uri _server = null!;

    [OneTimeSetUp]
    public void StartKestrel()
    {
        _factory = new ThumbnailApiFactory(services: s => s.Configure<KestrelServerOptions>(kestrel =>
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(2)));
        _factory.UseKestrel(0);
        _factory.StartServer();
        _server = _factory.ClientOptions.BaseAddress;
    }

    [OneTimeTearDown]
    public void StopKestrel() => _factory.Dispose();

    public static IEnumerable<TestCaseData> Rejected()
    {
        yield return new TestCaseData($"GET /{new string('a', 10_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n", 414, "url_too_long")
            .SetName("A URL over 8 KB is a 414 url_too_long");
        yield return new TestCaseData($"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: {new string('a', 40_000)}\r\n\r\n", 431, "headers_too_large")
            .SetName("Headers over 32 KB are a 431 headers_too_large");
        yield return new TestCaseData($"POST {ApiClient.Api}/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n", 400, "bad_request")
            .SetName("Content-Length abc is a 400 bad_request");
        yield return new TestCaseData($"POST {ApiClient.Api}/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400, "bad_request")
            .SetName("Two different Content-Length headers are a 400 bad_request");
        yield return new TestCaseData($"POST {ApiClient.Api}/ HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "bad_request")
            .SetName("An unknown Transfer-Encoding is a 400 bad_request");
        yield return new TestCaseData("GET /healthz HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n", 400, "bad_request")
            .SetName("A header line without a colon is a 400 bad_request");
        yield return new TestCaseData("GET /healthz HTTP/3.0\r\nHost: localhost\r\n\r\n", 505, "http_version_not_supported")
            .SetName("An HTTP version other than 1.x is a 505 http_version_not_supported");
        yield return new TestCaseData("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1\r\n", 408, "request_timeout")
            .SetName("Headers that never finish are a 408 request_timeout");
    }

    [TestCaseSource(nameof(Rejected))]
    public async Task Kestrel_s_own_rejection_carries_the_json_error_body(string request, int status, string code)
    {
        using var connection = await RawHttpConnection.OpenAsync(_server);

        await connection.SendAsync(request);
        var response = await connection.ReadResponseAsync(TimeSpan.FromSeconds(10));

        Assert.That(RawHttpConnection.StatusOf(response), Is.EqualTo(status), response);
        var (headers, body) = Split(response);
        Assert.That(headers, Does.Contain("\r\nContent-Type: application/json; charset=utf-8\r\n"));
        Assert.That(headers, Does.Contain("\r\nConnection: close\r\n"));
        Assert.That(headers, Does.Contain("\r\nX-Content-Type-Options: nosniff\r\n"));
        Assert.That(headers, Does.Contain($"\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n"));
        var json = JsonDocument.Parse(body).RootElement;
        Assert.That(json.GetProperty("status").GetString(), Is.EqualTo("failed"));
        Assert.That(json.GetProperty("error_code").GetInt32(), Is.EqualTo(status));
        Assert.That(json.GetProperty("code").GetString(), Is.EqualTo(code));
        Assert.That(json.GetProperty("message").GetString(), Is.Not.Empty);
        Assert.That(await connection.ClosedByServerAsync(TimeSpan.FromSeconds(10)), Is.True, "the connection is closed after it");
    }

    [Test]
    public async Task A_bad_request_after_good_ones_on_a_kept_alive_connection_gets_the_json_body_and_the_good_answers_are_untouched()
    {
        using var connection = await RawHttpConnection.OpenAsync(_server);

        await connection.SendAsync("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var first = await connection.ReadResponseAsync(TimeSpan.FromSeconds(10));
        await connection.SendAsync("GET /nothing/here HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var second = await connection.ReadResponseAsync(TimeSpan.FromSeconds(10));
        await connection.SendAsync("POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n");
        var third = await connection.ReadResponseAsync(TimeSpan.FromSeconds(10));

        Assert.That(first, Does.StartWith("HTTP/1.1 200 OK\r\n").And.Contain("{\"status\":\"healthy\""));
        Assert.That(second, Does.StartWith("HTTP/1.1 404 Not Found\r\n").And.Contain("\"code\":\"not_found\""));
        Assert.That(RawHttpConnection.StatusOf(third), Is.EqualTo(400), third);
        Assert.That(JsonDocument.Parse(Split(third).Body).RootElement.GetProperty("code").GetString(), Is.EqualTo("bad_request"));
    }

    [Test]
    public async Task Pipelined_requests_and_a_head_answer_pass_untouched()
    {
        using var connection = await RawHttpConnection.OpenAsync(_server);

        // Three requests in one write: a HEAD that is a 404 (headers, no body), a GET 404 and a GET 200.
        await connection.SendAsync(
            "HEAD /nothing/here HTTP/1.1\r\nHost: localhost\r\n\r\n"
            + "GET /nothing/here HTTP/1.1\r\nHost: localhost\r\n\r\n"
            + "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        var all = await ReadToEndAsync(connection);

        var starts = System.Text.RegularExpressions.Regex.Matches(all, "HTTP/1\\.1 \\d{3} ").Select(match => match.Value).ToList();
        Assert.That(starts, Is.EqualTo(new[] { "HTTP/1.1 404 ", "HTTP/1.1 404 ", "HTTP/1.1 200 " }), all);
        var head = all[..all.IndexOf("HTTP/1.1 404 ", 1, StringComparison.Ordinal)];
        Assert.That(head, Does.EndWith("\r\n\r\n"), "the HEAD answer has no body");
        Assert.That(head, Does.Not.Contain("{"));
        Assert.That(all, Does.EndWith("{\"status\":\"healthy\",\"duration_ms\":0}\r\n0\r\n\r\n"));
    }

    [Test]
    public void Only_kestrel_s_own_bodiless_closing_error_is_rewritten()
    {
        const string date = "Date: Wed, 02 Dec 2026 02:39:12 GMT\r\n";
        Assert.Multiple(() =>
        {
            Assert.That(Rewritten($"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n{date}\r\n"), Is.Not.Null);
            Assert.That(Rewritten($"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n{date}Server: Kestrel\r\nContent-Length: 0\r\n\r\n"), Is.Not.Null);

            Assert.That(Rewritten($"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n{date}\r\n"), Is.Null, "kept alive: the request may have been a HEAD");
            Assert.That(Rewritten($"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n{date}X-Content-Type-Options: nosniff\r\n\r\n"),
                Is.Null, "the service's own answer");
            Assert.That(Rewritten($"HTTP/1.1 400 Bad Request\r\nContent-Length: 12\r\nConnection: close\r\n{date}\r\n"), Is.Null, "it has a body");
            Assert.That(Rewritten($"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n{date}\r\n"), Is.Null, "not an error");
            Assert.That(Rewritten($"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n{date}\r\n{{\"x\":1}}"), Is.Null, "more follows");
            Assert.That(Rewritten("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n"), Is.Null, "not a whole header block");
            Assert.That(Rewritten("\u0089PNG\r\n\u001a\n HTTP/1.1 400 Bad Request\r\n\r\n"), Is.Null, "body bytes");
            Assert.That(Rewritten("HTTP/1.1 4\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), Is.Null, "a cut status line");
        });
    }

    private static string? Rewritten(string response) =>
        KestrelRejections.Rewrite(Encoding.Latin1.GetBytes(response)) is { } bytes ? Encoding.ASCII.GetString(bytes) : null;

    private static (string Headers, string Body) Split(string response)
    {
        var end = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return end < 0 ? (response, "") : (response[..(end + 2)], response[(end + 4)..]);
    }

    private static async Task<string> ReadToEndAsync(RawHttpConnection connection)
    {
        var text = new StringBuilder();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var more = await connection.ReadResponseAsync(TimeSpan.FromSeconds(2));
            if (more.Length == 0)
            {
                break;
            }

            text.Append(more);
        }

        return text.ToString();
    }
}

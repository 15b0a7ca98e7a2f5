using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>One log line per request, and logs that never carry image bytes or file paths.</summary>
[TestFixture]
public sealed class RequestLogTests
{
    private CapturedLogs _logs = null!;
    private ThumbnailApiFactory _factory = null!;
    private ApiClient _client = null!;

    [OneTimeSetUp]
    public async Task RunSomeRequests()
    {
        _logs = new CapturedLogs();
        _factory = new ThumbnailApiFactory(
            new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Debug" },
            services => services.AddSingleton<ILoggerProvider>(_logs));
        _client = _factory.CreateApiClient();

        foreach (var file in new[] { "photo.jpg", "damaged/truncated.jpg" })
        {
            var id = await _client.UploadAsync(TestImages.Path(file));
            await _client.WaitUntilFinishedAsync(id);
            using var _ = await _client.Http.GetAsync($"{ApiClient.Api}/{id}/thumbnail");
        }

        using (await _client.PostFileAsync(TestImages.Path("disguised/text.jpg")))
        using (await _client.Http.GetAsync("/no/such/page"))
        using (await _client.Http.GetAsync("/healthz"))
        using (await _client.Http.GetAsync($"{ApiClient.Api}/{ForgedLine}"))
        using (await _client.Http.GetAsync($"/unknown{ForgedLine}%E2%80%A8%C2%85%7F%E2%80%AEtxt.exe"))
        {
        }
    }

    /// <summary>A line break in the URL, followed by what would look like another log line.</summary>
    private const string ForgedLine = "abc%0D%0Ainfo:%20ThumbnailApi.Fake%5B1%5D";

    [OneTimeTearDown]
    public void StopService()
    {
        _client.Dispose();
        _factory.Dispose();
        _logs.Dispose();
    }

    [Test]
    public void Each_request_is_logged_with_method_path_route_status_and_duration()
    {
        var requests = _logs.Lines.Where(line => line.Category == "ThumbnailApi.Operations.RequestLog").ToList();

        var upload = requests.First(line => (string?)line["Method"] == "POST" && (int?)line["StatusCode"] == 202);
        Assert.Multiple(() =>
        {
            Assert.That(upload.Level, Is.EqualTo(LogLevel.Information));
            Assert.That(upload["Path"], Is.EqualTo("/api/v1/thumbnail_generator/"));
            Assert.That(upload["Route"], Is.EqualTo("/api/v1/thumbnail_generator/"));
            Assert.That((double)upload["ElapsedMs"]!, Is.Positive);
            Assert.That(upload.Message, Does.Match(@"^HTTP POST /api/v1/thumbnail_generator/ \(route .*\) answered 202 in \d+\.\d ms$"));
        });

        Assert.That(requests.Any(line => (int?)line["StatusCode"] == 415), Is.True, "the refused text file");
        Assert.That(requests.Any(line => (string?)line["Route"] == "/api/v1/thumbnail_generator/{taskId}/thumbnail"), Is.True, "the route, not only the path");
        var notFound = requests.Single(line => (string?)line["Path"] == "/no/such/page");
        Assert.That((notFound["StatusCode"], notFound["Route"]), Is.EqualTo((404, "-")));
        var probe = requests.Single(line => (string?)line["Path"] == "/healthz");
        Assert.That(probe.Level, Is.EqualTo(LogLevel.Debug), "probes do not flood the log");
    }

    [Test]
    public void A_line_break_in_the_url_is_escaped_in_the_log_and_never_starts_a_line_of_its_own()
    {
        var logged = _logs.Lines.Where(line => line.Message.Contains("ThumbnailApi.Fake", StringComparison.Ordinal)).ToList();

        Assert.That(logged, Is.Not.Empty, "the request is logged");
        Assert.That(logged.Select(line => line.Message), Has.Some.Contains(@"/abc\r\ninfo: ThumbnailApi.Fake[1] (route"));
        Assert.That(logged.Select(line => line.Message), Has.Some.Contains(@"[1]\u2028\u0085\u007F\u202Etxt.exe"));
        // The service's own lines. (ASP.NET Core's routing logs the raw path at Debug; its categories stay at Warning in appsettings.json.)
        foreach (var line in _logs.Lines.Where(line => line.Category.StartsWith("ThumbnailApi.", StringComparison.Ordinal)))
        {
            Assert.That(line.Message.Any(c => char.IsControl(c) || c is '\u2028' or '\u2029' or '\u202E'), Is.False, $"a control character in: {line}");
            foreach (var (name, value) in line.State)
            {
                Assert.That(value is string text && text.Any(c => char.IsControl(c) || c is '\u2028' or '\u2029' or '\u202E'), Is.False,
                    $"a control character in {name} of: {line}");
            }
        }
    }

    [Test]
    public void No_log_line_holds_a_file_path_or_image_bytes()
    {
        var uploaded = TestImages.Bytes("photo.jpg");
        var bytesAsText = new[]
        {
            Convert.ToBase64String(uploaded.AsSpan(0, 48)),
            Convert.ToHexString(uploaded.AsSpan(0, 24)),
            System.Text.Encoding.Latin1.GetString(uploaded.AsSpan(0, 12)),
        };

        Assert.That(_logs.Lines, Has.Count.GreaterThan(10));
        foreach (var line in _logs.Lines)
        {
            var text = line.ToString();
            Assert.That(text, Does.Not.Contain(_factory.DataPath), $"a data path in: {text}");
            Assert.That(text, Does.Not.Contain(Path.GetTempPath().TrimEnd('/') + "/thumbnailapi"), $"a temp path in: {text}");
            foreach (var bytes in bytesAsText)
            {
                Assert.That(text, Does.Not.Contain(bytes), $"image bytes in: {text}");
            }
        }
    }
}

using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// An upload that stops sending (UploadIdleTimeoutSeconds, 1 s here) against the real Kestrel server
/// with its production rate rule (1 KB/s averaged, after a 10 s grace): the connection is closed and
/// the partial file removed within a few seconds, long before the rate rule would act, wherever in the
/// multipart body the client stalls. A slow upload that keeps sending is not cut off.
/// </summary>
[TestFixture]
public sealed class StalledUploadTests
{
    private const string Boundary = "stall";

    /// <summary>Well before Kestrel's 10 s grace period, after which its averaged rate rule could act.</summary>
    private static readonly TimeSpan WellBeforeTheRateRule = TimeSpan.FromSeconds(6);

    private CapturedLogs _logs = null!;
    private ThumbnailApiFactory _factory = null!;
    private Uri _server = null!;

    [OneTimeSetUp]
    public void StartKestrel()
    {
        _logs = new CapturedLogs();
        _factory = new ThumbnailApiFactory(
            new Dictionary<string, string?> { ["ThumbnailApi:UploadIdleTimeoutSeconds"] = "1" },
            services => services.AddSingleton<ILoggerProvider>(_logs));
        _factory.UseKestrel(0);
        _factory.StartServer();
        _server = _factory.ClientOptions.BaseAddress;
    }

    [OneTimeTearDown]
    public void StopKestrel()
    {
        _factory.Dispose();
        _logs.Dispose();
    }

    [Test]
    public async Task An_upload_that_stops_sending_in_the_image_is_closed_and_its_partial_file_removed_within_seconds()
    {
        using var connection = await RawHttpConnection.OpenAsync(_server);
        var watch = Stopwatch.StartNew();
        await connection.SendAsync(Head(contentLength: 45_000_000));
        await connection.SendAsync(PartHead("image", "filename=\"big.jpg\""));
        await connection.SendAsync(TestImages.Bytes("photo.jpg")[..16_000]);

        Assert.That(await Eventually.TrueAsync(() => Directory.GetFiles(_factory.UploadsPath).Length == 1), Is.True, "the upload is being written");
        var closed = await connection.ClosedByServerAsync(WellBeforeTheRateRule);
        var removed = await Eventually.TrueAsync(() => Directory.GetFiles(_factory.UploadsPath).Length == 0, TimeSpan.FromSeconds(2));
        TestContext.Out.WriteLine($"closed and removed after {watch.Elapsed.TotalSeconds:F1} s");

        Assert.That(closed, Is.True, "the server closed the connection");
        Assert.That(removed, Is.True, "the partial upload is removed");
        Assert.That(watch.Elapsed, Is.LessThan(WellBeforeTheRateRule));
        var logged = _logs.Lines.Where(line => line.EventId.Id == 1020 && (long)line["ReceivedBytes"]! > 16_000).ToList();
        Assert.That(logged, Has.Count.EqualTo(1), "logged once");
        Assert.That(logged[0].Level, Is.EqualTo(LogLevel.Information));
        Assert.That(logged[0].Message, Does.Contain("sent nothing for 1 s"));
        await AssertStillServesAsync();
    }

    [TestCase("part headers", "--stall\r\nContent-Disposition: form-da")]
    [TestCase("a text field", "--stall\r\nContent-Disposition: form-data; name=\"width\"\r\n\r\n12")]
    [TestCase("the boundary", "")]
    public async Task An_upload_that_stops_sending_anywhere_in_the_form_is_closed_within_seconds(string where, string sent)
    {
        using var connection = await RawHttpConnection.OpenAsync(_server);
        var watch = Stopwatch.StartNew();
        await connection.SendAsync([.. Head(contentLength: 100_000), .. Encoding.ASCII.GetBytes(sent)]);

        var closed = await connection.ClosedByServerAsync(WellBeforeTheRateRule);

        Assert.That(closed, Is.True, $"the server closed the connection of an upload stalled in {where}");
        Assert.That(watch.Elapsed, Is.LessThan(WellBeforeTheRateRule));
        Assert.That(Directory.GetFiles(_factory.UploadsPath), Is.Empty);
    }

    [Test]
    public async Task A_slow_upload_that_keeps_sending_is_not_cut_off_by_the_idle_time()
    {
        var image = TestImages.Bytes("photo.jpg");
        var body = (byte[])[.. PartHead("image", "filename=\"slow.jpg\""), .. image, .. Encoding.ASCII.GetBytes($"\r\n--{Boundary}--\r\n")];
        using var connection = await RawHttpConnection.OpenAsync(_server);
        await connection.SendAsync(Head(body.Length));

        // Eight pieces, 0.4 s apart: 3 s in all, three times the idle time, but never 1 s without a byte.
        var piece = (body.Length + 7) / 8;
        for (var offset = 0; offset < body.Length; offset += piece)
        {
            await connection.SendAsync(body[offset..Math.Min(body.Length, offset + piece)]);
            await Task.Delay(400);
        }

        var response = await connection.ReadResponseAsync(TimeSpan.FromSeconds(10));
        Assert.That(RawHttpConnection.StatusOf(response), Is.EqualTo(202), response);
    }

    private static byte[] Head(long contentLength) => Encoding.ASCII.GetBytes(
        $"POST {ApiClient.Api}/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary={Boundary}\r\n"
        + $"Content-Length: {contentLength}\r\n\r\n");

    private static byte[] PartHead(string name, string fileName) =>
        Encoding.UTF8.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; {fileName}\r\n\r\n");

    private async Task AssertStillServesAsync()
    {
        using var client = _factory.CreateApiClient();
        var id = await client.UploadAsync(TestImages.Path("photo.jpg"));
        Assert.That((await client.WaitUntilFinishedAsync(id)).GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
    }
}

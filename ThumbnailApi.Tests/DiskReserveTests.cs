using System.Net;
using System.Text.Json;
using Dapper;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// MinFreeDiskBytes: while an upload of its declared size would leave less free space than the
/// reserve, it is a 503 storage_unavailable with Retry-After before the body is read, nothing is
/// stored, and /readyz says so. Free space is the machine's real one; the reserve is set around it.
/// </summary>
[TestFixture]
public sealed class DiskReserveTests
{
    [Test]
    public async Task With_less_free_space_than_the_reserve_an_upload_is_a_503_storage_unavailable_and_nothing_is_stored()
    {
        using var factory = new ThumbnailApiFactory(new Dictionary<string, string?>
        {
            ["ThumbnailApi:MinFreeDiskBytes"] = (long.MaxValue / 2).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ThumbnailApi:RetryAfterSeconds"] = "7",
        });
        using var client = factory.CreateApiClient();

        using var refused = await client.PostFileAsync(TestImages.Path("photo.jpg"));

        var body = await ErrorResponseTests.AssertErrorAsync(refused, HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        Assert.That(refused.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(7)));
        Assert.That(body.ToString(), Does.Not.Contain(factory.DataPath));
        Assert.That(Directory.GetFiles(factory.UploadsPath), Is.Empty);
        using var db = factory.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM tasks"), Is.Zero);
    }

    [Test]
    public async Task The_refusal_comes_before_the_body_is_read()
    {
        using var factory = new ThumbnailApiFactory(new Dictionary<string, string?>
        {
            ["ThumbnailApi:MinFreeDiskBytes"] = (long.MaxValue / 2).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        factory.UseKestrel(0);
        factory.StartServer();
        using var connection = await RawHttpConnection.OpenAsync(factory.ClientOptions.BaseAddress);

        await connection.SendAsync(
            $"POST {ApiClient.Api}/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 40000000\r\n\r\n");
        var response = await connection.ReadResponseAsync(TimeSpan.FromSeconds(10));

        Assert.That(RawHttpConnection.StatusOf(response), Is.EqualTo(503), response);
        Assert.That(response, Does.Contain("\"code\":\"storage_unavailable\"").And.Contain("Retry-After: 5"));
    }

    [Test]
    public async Task The_declared_content_length_counts_against_the_free_space()
    {
        using var folder = new TempDataFolder();
        var free = new DriveInfo(folder.Path).AvailableFreeSpace;
        // A gigabyte above the reserve: a small upload fits, one declaring two gigabytes does not.
        using var factory = new ThumbnailApiFactory(new Dictionary<string, string?>
        {
            ["ThumbnailApi:MinFreeDiskBytes"] = (free - (1L << 30)).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ThumbnailApi:MaxUploadBytes"] = (2L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, dataFolder: folder);
        factory.UseKestrel(0);
        factory.StartServer();
        using var client = factory.CreateApiClient();

        await client.UploadAsync(TestImages.Path("photo.jpg"));
        using var connection = await RawHttpConnection.OpenAsync(factory.ClientOptions.BaseAddress);
        await connection.SendAsync(
            $"POST {ApiClient.Api}/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: {2L << 30}\r\n\r\n");
        var response = await connection.ReadResponseAsync(TimeSpan.FromSeconds(10));

        Assert.That(RawHttpConnection.StatusOf(response), Is.EqualTo(503), response);
        Assert.That(response, Does.Contain("\"code\":\"storage_unavailable\""));
    }

    [Test]
    public async Task Readiness_reports_the_free_space_against_the_reserve_and_is_503_under_it()
    {
        using var roomy = new ThumbnailApiFactory(new Dictionary<string, string?> { ["ThumbnailApi:MinFreeDiskBytes"] = "1024" });
        using var full = new ThumbnailApiFactory(new Dictionary<string, string?>
        {
            ["ThumbnailApi:MinFreeDiskBytes"] = (long.MaxValue / 2).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        var (_, roomyCheck) = await DataFolderCheckAsync(roomy);
        var (fullStatus, fullCheck) = await DataFolderCheckAsync(full);

        Assert.That(roomyCheck.GetProperty("status").GetString(), Is.EqualTo("healthy"), roomyCheck.ToString());
        Assert.That(roomyCheck.GetProperty("data").GetProperty("min_free_bytes").GetInt64(), Is.EqualTo(1024));
        Assert.That(roomyCheck.GetProperty("data").GetProperty("available_bytes").GetInt64(), Is.GreaterThan(1024));
        Assert.That(fullStatus, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(fullCheck.GetProperty("status").GetString(), Is.EqualTo("unhealthy"));
        Assert.That(fullCheck.GetProperty("description").GetString(), Does.Contain("under the reserve"));
        Assert.That(fullCheck.GetProperty("data").GetProperty("min_free_bytes").GetInt64(), Is.EqualTo(long.MaxValue / 2));
    }

    [Test]
    public void The_default_reserve_is_one_gibibyte()
    {
        Assert.That(new ServiceOptions().MinFreeDiskBytes, Is.EqualTo(1L << 30));
    }

    private static async Task<(HttpStatusCode Status, JsonElement Check)> DataFolderCheckAsync(ThumbnailApiFactory factory)
    {
        using var client = factory.CreateClient();
        using var response = await client.GetAsync("/readyz");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return (response.StatusCode, body.GetProperty("checks").GetProperty("data_folder").Clone());
    }
}

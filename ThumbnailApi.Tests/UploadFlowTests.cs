using System.Net;
using System.Text.Json;
using SkiaSharp;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

[TestFixture]
public sealed class UploadFlowTests : OneServiceFixture
{
    [TestCase("photo.jpg", "image/jpeg")]
    [TestCase("photo-progressive.jpg", "image/jpeg")]
    [TestCase("alpha.png", "image/png")]
    [TestCase("photo.tif", "image/png")]
    [TestCase("photo.bmp", "image/png")]
    [TestCase("photo.gif", "image/png")]
    [TestCase("photo.webp", "image/png")]
    public async Task Each_format_becomes_a_100x100_thumbnail_that_can_be_downloaded(string file, string expectedType)
    {
        var (thumbnail, contentType) = await Client.ThumbnailOfAsync(TestImages.Path(file));
        using (thumbnail)
        {
            Assert.That(contentType, Is.EqualTo(expectedType));
            Assert.That((thumbnail.Width, thumbnail.Height), Is.EqualTo((100, 100)));
        }
    }

    [Test]
    public async Task An_accepted_upload_answers_202_with_the_original_fields_a_location_and_a_status_url()
    {
        using var response = await Client.PostFileAsync(TestImages.Path("photo.jpg"));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var id = body.GetProperty("task_id").GetString()!;
        Assert.Multiple(() =>
        {
            Assert.That(body.GetProperty("status").GetString(), Is.EqualTo("success"));
            Assert.That(id, Does.Match("^[0-9a-f]{32}$"));
            Assert.That(body.GetProperty("task_status").GetString(), Is.EqualTo("PENDING"));
            Assert.That(body.GetProperty("message").GetString(), Is.Not.Empty);
            Assert.That(body.GetProperty("status_url").GetString(), Is.EqualTo($"http://localhost{ApiClient.Api}/{id}"));
            Assert.That(response.Headers.Location?.ToString(), Is.EqualTo($"{ApiClient.Api}/{id}"));
        });
    }

    [Test]
    public async Task The_upload_address_works_with_and_without_the_trailing_slash()
    {
        using var form = new MultipartFormDataContent { { new ByteArrayContent(TestImages.Bytes("alpha.png")), "image", "alpha.png" } };
        using var response = await Client.Http.PostAsync(ApiClient.Api, form);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
    }

    [Test]
    public async Task A_finished_task_reports_the_original_file_name_and_absolute_thumbnail_urls()
    {
        var id = await Client.UploadAsync(TestImages.Path("alpha.png"));
        var status = await Client.WaitUntilFinishedAsync(id);
        var image = status.GetProperty("image");

        var thumbnailUrl = $"http://localhost{ApiClient.Api}/{id}/thumbnail";
        Assert.Multiple(() =>
        {
            Assert.That(status.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
            Assert.That(image.GetProperty("name").GetString(), Is.EqualTo("alpha.png"));
            Assert.That(image.GetProperty("image").GetString(), Is.EqualTo(thumbnailUrl));
            Assert.That(image.GetProperty("url").GetString(), Is.EqualTo(thumbnailUrl));
            Assert.That(image.GetProperty("width").GetInt32(), Is.EqualTo(100));
            Assert.That(image.GetProperty("height").GetInt32(), Is.EqualTo(100));
            Assert.That(image.GetProperty("content_type").GetString(), Is.EqualTo("image/png"));
            Assert.That(image.GetProperty("size_bytes").GetInt64(), Is.GreaterThan(0));
        });
    }

    [Test]
    public async Task Absolute_urls_ignore_a_forwarded_scheme_and_host_from_a_client_that_is_not_a_configured_proxy()
    {
        // No proxy is configured here; TrustedProxyTests shows the headers used from one that is.
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{ApiClient.Api}/")
        {
            Content = new MultipartFormDataContent { { new ByteArrayContent(TestImages.Bytes("photo.jpg")), "image", "photo.jpg" } },
        };
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Host", "thumbs.example.org");
        using var response = await Client.Http.SendAsync(request);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.That(body.GetProperty("status_url").GetString(), Does.StartWith("http://localhost/api/v1/thumbnail_generator/"));
    }

    [Test]
    public async Task The_thumbnail_of_a_jpeg_with_exif_orientation_6_is_the_right_way_up()
    {
        var (thumbnail, _) = await Client.ThumbnailOfAsync(TestImages.Path("orientation/exif-6.jpg"));
        using (thumbnail)
        {
            Assert.Multiple(() =>
            {
                AssertColour(thumbnail, 20, 20, SKColors.Red, "top left");
                AssertColour(thumbnail, 80, 20, new SKColor(0, 255, 0), "top right");
                AssertColour(thumbnail, 20, 80, SKColors.Blue, "bottom left");
                AssertColour(thumbnail, 80, 80, SKColors.Yellow, "bottom right");
            });
        }
    }

    [Test]
    public async Task A_file_name_with_path_separators_and_control_characters_is_reduced_to_a_plain_name()
    {
        using var response = await Client.PostBytesAsync(TestImages.Bytes("photo.jpg"), "../../etc/pass\u0007wd.jpg");
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("task_id").GetString()!;
        var status = await Client.WaitUntilFinishedAsync(id);

        Assert.That(status.GetProperty("image").GetProperty("name").GetString(), Is.EqualTo("passwd.jpg"));
    }

    [Test]
    public async Task Fifty_concurrent_uploads_all_reach_success()
    {
        // Fifty at once from one address: past the default cap on uploads in progress (8 per client), which is off here.
        using var factory = new ThumbnailApiFactory(new Dictionary<string, string?>
        {
            ["ThumbnailApi:MaxConcurrentUploadsPerClient"] = "0",
            ["ThumbnailApi:MaxConcurrentUploads"] = "0",
        });
        using var client = factory.CreateApiClient();
        var files = new[] { "photo.jpg", "alpha.png", "photo.tif", "photo.bmp", "photo.gif" };
        var ids = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => client.UploadAsync(TestImages.Path(files[i % files.Length]))));
        var statuses = await Task.WhenAll(ids.Select(id => client.WaitUntilFinishedAsync(id, TimeSpan.FromSeconds(60))));

        Assert.That(ids.Distinct().Count(), Is.EqualTo(50));
        Assert.That(statuses.Select(s => s.GetProperty("task_status").GetString()), Is.All.EqualTo("SUCCESS"));
    }

    private static void AssertColour(SKBitmap bitmap, int x, int y, SKColor expected, string where)
    {
        var actual = Pixels.AverageAround(bitmap, x, y);
        Assert.That(Pixels.IsClose(actual, expected, 40), Is.True, $"{where}: expected {expected}, got {actual}");
    }
}

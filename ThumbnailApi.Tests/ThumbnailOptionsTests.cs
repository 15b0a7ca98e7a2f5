using System.Net;
using System.Text.Json;
using SkiaSharp;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>width, height, fit and format end to end: as form fields or query parameters, stored with the task, reported and applied.</summary>
[TestFixture]
public sealed class ThumbnailOptionsTests : OneServiceFixture
{
    [Test]
    public async Task Options_sent_as_form_fields_are_applied_stored_and_reported()
    {
        var fields = new Dictionary<string, string> { ["width"] = "200", ["height"] = "120", ["fit"] = "contain", ["format"] = "webp" };
        var (status, thumbnail, contentType) = await MakeThumbnailAsync("photo.jpg", fields);
        using (thumbnail)
        {
            AssertOptions(status, 200, 120, "contain", "webp");
            Assert.Multiple(() =>
            {
                Assert.That(contentType, Is.EqualTo("image/webp"));
                Assert.That((thumbnail.Width, thumbnail.Height), Is.EqualTo((200, 120)));
                Assert.That(status.GetProperty("image").GetProperty("content_type").GetString(), Is.EqualTo("image/webp"));
                Assert.That(status.GetProperty("image").GetProperty("width").GetInt32(), Is.EqualTo(200));
                Assert.That((int)thumbnail.GetPixel(2, 60).Alpha, Is.Zero, "4:3 photo in a 5:3 box: transparent padding at the sides");
            });
        }

    }

    [Test]
    public async Task Options_sent_as_query_parameters_are_applied_and_reported()
    {
        var (status, thumbnail, contentType) = await MakeThumbnailAsync("alpha.png", query: "?fit=inside&width=150&format=jpeg");
        using (thumbnail)
        {
            AssertOptions(status, 150, 100, "inside", "jpeg");
            Assert.That(contentType, Is.EqualTo("image/jpeg"));
            Assert.That((thumbnail.Width, thumbnail.Height), Is.EqualTo((133, 100)), "320×240 inside 150×100");
            Assert.That(Pixels.IsClose(thumbnail.GetPixel(1, 1), SKColors.White, 8), Is.True, "transparency flattened onto white");
        }
    }

    [Test]
    public async Task A_form_field_wins_over_the_same_query_parameter()
    {
        var (status, thumbnail, _) = await MakeThumbnailAsync("quadrants.png", new Dictionary<string, string> { ["fit"] = "inside" }, "?fit=fill");
        using (thumbnail)
        {
            AssertOptions(status, 100, 100, "inside", "auto");
            Assert.That((thumbnail.Width, thumbnail.Height), Is.EqualTo((100, 75)));
        }
    }

    [Test]
    public async Task Without_options_the_defaults_are_reported_and_auto_keeps_jpeg_as_jpeg_and_makes_png_otherwise()
    {
        var (jpegStatus, jpeg, jpegType) = await MakeThumbnailAsync("photo.jpg");
        var (gifStatus, gif, gifType) = await MakeThumbnailAsync("photo.gif");
        using (jpeg)
        using (gif)
        {
            AssertOptions(jpegStatus, 100, 100, "cover", "auto");
            AssertOptions(gifStatus, 100, 100, "cover", "auto");
            Assert.That((jpegType, gifType), Is.EqualTo(("image/jpeg", "image/png")));
        }
    }

    [Test]
    public async Task Option_words_are_case_insensitive_and_jpg_means_jpeg()
    {
        var (status, thumbnail, contentType) = await MakeThumbnailAsync("alpha.png", new Dictionary<string, string> { ["fit"] = "FILL", ["format"] = "JPG" });
        using (thumbnail)
        {
            AssertOptions(status, 100, 100, "fill", "jpeg");
            Assert.That(contentType, Is.EqualTo("image/jpeg"));
        }
    }

    [TestCase("jpeg", "image/jpeg")]
    [TestCase("webp", "image/webp")]
    public async Task A_quality_sets_the_encoders_trade_between_bytes_and_fidelity_and_is_stored_and_reported(string format, string contentType)
    {
        var sizes = new List<long>();
        foreach (var quality in new[] { "20", null, "100" })
        {
            var fields = new Dictionary<string, string> { ["format"] = format, ["width"] = "300", ["height"] = "200" };
            if (quality is not null)
            {
                fields["quality"] = quality;
            }

            var (status, thumbnail, type) = await MakeThumbnailAsync("photo.jpg", fields);
            using (thumbnail)
            {
                Assert.That(type, Is.EqualTo(contentType));
                var options = status.GetProperty("options");
                Assert.That(options.TryGetProperty("quality", out var echoed) ? echoed.GetInt32().ToString() : null, Is.EqualTo(quality),
                    "quality is reported as asked, and left out when not asked");
                sizes.Add(status.GetProperty("image").GetProperty("size_bytes").GetInt64());
            }
        }

        Assert.That(sizes, Is.Ordered.Ascending, $"bytes at quality 20, the default and 100: {string.Join(", ", sizes)}");
        Assert.That(sizes[0], Is.LessThan(sizes[1] * 0.7), "quality 20 is clearly smaller than the default");
    }

    [Test]
    public async Task A_quality_is_ignored_by_lossless_png_output()
    {
        var (status, thumbnail, type) = await MakeThumbnailAsync("alpha.png", new Dictionary<string, string> { ["quality"] = "10" });
        var (_, plain, _) = await MakeThumbnailAsync("alpha.png", new Dictionary<string, string> { ["width"] = "100" });
        using (thumbnail)
        using (plain)
        {
            Assert.That(type, Is.EqualTo("image/png"));
            Assert.That(status.GetProperty("options").GetProperty("quality").GetInt32(), Is.EqualTo(10));
            Assert.That(thumbnail.Bytes, Is.EqualTo(plain.Bytes), "the same pixels as without a quality");
        }
    }

    [TestCase("fit", "stretch", "cover, contain, inside, fill")]
    [TestCase("format", "gif", "auto, png, jpeg, webp")]
    [TestCase("width", "2000", "1 to 1024")]
    [TestCase("height", "-5", "1 to 1024")]
    [TestCase("quality", "0", "1 to 100")]
    public async Task A_bad_query_parameter_is_a_400_naming_the_field_and_the_allowed_values_and_nothing_is_stored(string field, string value, string allowed)
    {
        using var response = await Client.PostFileAsync(TestImages.Path("photo.jpg"), query: $"?{field}={value}");

        var body = await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_option");
        Assert.Multiple(() =>
        {
            Assert.That(body.GetProperty("field").GetString(), Is.EqualTo(field));
            Assert.That(body.GetProperty("message").GetString(), Does.Contain(allowed));
            Assert.That(Directory.Exists(Factory.UploadsPath) ? Directory.GetFiles(Factory.UploadsPath) : [], Is.Empty, "no upload kept");
        });
    }

    private async Task<(JsonElement Status, SKBitmap Thumbnail, string ContentType)> MakeThumbnailAsync(
        string file, IReadOnlyDictionary<string, string>? fields = null, string query = "")
    {
        using var response = await Client.PostFileAsync(TestImages.Path(file), fields: fields, query: query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), text);
        var id = JsonDocument.Parse(text).RootElement.GetProperty("task_id").GetString()!;

        var status = await Client.WaitUntilFinishedAsync(id);
        Assert.That(status.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"), status.ToString());
        using var download = await Client.Http.GetAsync($"{ApiClient.Api}/{id}/thumbnail");
        var bytes = await download.Content.ReadAsByteArrayAsync();
        var bitmap = SKBitmap.Decode(bytes) ?? throw new AssertionException("The thumbnail does not decode.");
        return (status, bitmap, download.Content.Headers.ContentType!.MediaType!);
    }

    private static void AssertOptions(JsonElement status, int width, int height, string fit, string format)
    {
        var options = status.GetProperty("options");
        Assert.That(
            (options.GetProperty("width").GetInt32(), options.GetProperty("height").GetInt32(),
             options.GetProperty("fit").GetString(), options.GetProperty("format").GetString()),
            Is.EqualTo((width, height, fit, format)));
    }
}

using System.Net;
using System.Text;
using System.Text.Json;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>Every error of the API.md table, with its status, its code and a JSON body.</summary>
[TestFixture]
public sealed class ErrorResponseTests
{
    private ThumbnailApiFactory _factory = null!;
    private ApiClient _client = null!;

    [OneTimeSetUp]
    public void StartService()
    {
        // Small limits, so the limit errors need only small files.
        _factory = new ThumbnailApiFactory(new Dictionary<string, string?>
        {
            ["ThumbnailApi:MaxUploadBytes"] = "200000",
            ["ThumbnailApi:MaxPixels"] = "4000000",
        });
        _client = _factory.CreateApiClient();
    }

    [OneTimeTearDown]
    public void StopService()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [Test]
    public async Task A_raw_body_that_is_not_multipart_is_a_400_not_a_500()
    {
        using var response = await _client.Http.PostAsync($"{ApiClient.Api}/", new ByteArrayContent(TestImages.Bytes("photo.jpg")));

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "missing_image");
    }

    [Test]
    public async Task A_form_without_an_image_part_is_a_400()
    {
        using var form = new MultipartFormDataContent { { new ByteArrayContent(TestImages.Bytes("photo.jpg")), "file", "photo.jpg" } };
        using var response = await _client.Http.PostAsync($"{ApiClient.Api}/", form);

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "missing_image");
    }

    [Test]
    public async Task Json_bodies_read_naturally_apostrophes_and_letters_unescaped_while_markup_stays_escaped()
    {
        using var form = new MultipartFormDataContent { { new ByteArrayContent(TestImages.Bytes("photo.jpg")), "file", "photo.jpg" } };
        using var error = await _client.Http.PostAsync($"{ApiClient.Api}/", form);
        var errorText = await error.Content.ReadAsStringAsync();

        Assert.That(errorText, Does.Contain("named 'image'").And.Not.Contain("\\u0027"), errorText);

        using var upload = new MultipartFormDataContent();
        var image = new ByteArrayContent(TestImages.Bytes("photo.jpg"));
        image.Headers.ContentDisposition = new System.Net.Http.Headers.ContentDispositionHeaderValue("form-data")
        {
            Name = "\"image\"", FileNameStar = "café d'été <b>&.jpg",
        };
        upload.Add(image);
        using var accepted = await _client.Http.PostAsync($"{ApiClient.Api}/", upload);
        var acceptedText = await accepted.Content.ReadAsStringAsync();
        var id = JsonDocument.Parse(acceptedText).RootElement.GetProperty("task_id").GetString()!;
        await _client.WaitUntilFinishedAsync(id);
        using var status = await _client.Http.GetAsync($"{ApiClient.Api}/{id}");
        var statusText = await status.Content.ReadAsStringAsync();

        Assert.That(statusText, Does.Contain("café d'été \\u003Cb\\u003E\\u0026.jpg"), statusText);
        Assert.That(JsonDocument.Parse(statusText).RootElement.GetProperty("image").GetProperty("name").GetString(), Is.EqualTo("café d'été <b>&.jpg"));
    }

    [Test]
    public async Task A_text_field_named_image_is_a_400_saying_that_image_must_be_a_file()
    {
        using var form = new MultipartFormDataContent { { new StringContent("hello"), "image" } };
        using var response = await _client.Http.PostAsync($"{ApiClient.Api}/", form);

        var body = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "missing_image");
        Assert.That(body.GetProperty("message").GetString(), Does.Contain("not a file").And.Contain("-F image=@"));
    }

    [Test]
    public async Task An_image_part_without_a_file_name_is_still_taken_when_its_bytes_are_an_image()
    {
        using var form = new MultipartFormDataContent { { new ByteArrayContent(TestImages.Bytes("photo.jpg")), "image" } };
        using var response = await _client.Http.PostAsync($"{ApiClient.Api}/", form);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task An_empty_image_file_is_a_400()
    {
        using var response = await _client.PostBytesAsync([], "empty.jpg");

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "missing_image");
    }

    [Test]
    public async Task A_multipart_body_with_a_broken_boundary_is_a_400()
    {
        var content = new StringContent("--nope\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nxx", Encoding.ASCII);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=expected");
        using var response = await _client.Http.PostAsync($"{ApiClient.Api}/", content);

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "missing_image");
    }

    [TestCase("width", "0")]
    [TestCase("width", "1025")]
    [TestCase("height", "abc")]
    [TestCase("fit", "stretch")]
    [TestCase("format", "gif")]
    [TestCase("quality", "0")]
    [TestCase("quality", "101")]
    [TestCase("quality", "85.5")]
    [TestCase("quality", "high")]
    public async Task A_bad_option_value_is_a_400_that_names_the_field(string field, string value)
    {
        using var response = await _client.PostFileAsync(TestImages.Path("photo.jpg"), fields: new Dictionary<string, string> { [field] = value });

        var body = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_option");
        Assert.That(body.GetProperty("field").GetString(), Is.EqualTo(field));
        Assert.That(body.GetProperty("message").GetString(), Does.Contain(field));
    }

    [Test]
    public async Task A_file_over_the_upload_limit_is_a_413_and_nothing_is_kept()
    {
        var big = new byte[300_000];
        new Random(7).NextBytes(big);
        big[0] = 0xFF;
        big[1] = 0xD8;
        big[2] = 0xFF;

        using var response = await _client.PostBytesAsync(big, "big.jpg");

        await AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "file_too_large");
        Assert.That(Directory.GetFiles(_factory.UploadsPath), Is.Empty);
    }

    [TestCase("disguised/text.jpg")]
    [TestCase("disguised/html.png")]
    [TestCase("disguised/svg.png")]
    [TestCase("disguised/pdf.jpg")]
    [TestCase("disguised/zip.gif")]
    [TestCase("disguised/mp4.jpg")]
    [TestCase("disguised/elf.bmp")]
    public async Task Bytes_that_are_not_an_accepted_format_are_a_415_whatever_the_file_is_called(string file)
    {
        using var response = await _client.PostFileAsync(TestImages.Path(file));

        await AssertErrorAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_format");
    }

    [Test]
    public async Task A_png_header_that_cannot_be_read_is_a_422_corrupt_image()
    {
        using var response = await _client.PostFileAsync(TestImages.Path("damaged/bad-header.png"));

        await AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "corrupt_image");
    }

    [TestCase(new byte[] { (byte)'B', (byte)'M', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [TestCase(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0, 1 })]
    [TestCase(new byte[] { (byte)'I', (byte)'I', 0x2A, 0, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0 })]
    [TestCase(new byte[] { (byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a', 0, 0, 0, 0, 0, 0 })]
    public async Task Magic_bytes_followed_by_an_unreadable_header_are_a_422_corrupt_image(byte[] bytes)
    {
        using var response = await _client.PostBytesAsync(bytes, "broken.img");

        await AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "corrupt_image");
    }

    [TestCase("damaged/bomb-30000.png")]
    [TestCase("damaged/bomb-30000.jpg")]
    [TestCase("damaged/bomb-30000.gif")]
    [TestCase("damaged/bomb-30000.tif")]
    [TestCase("damaged/bomb-30000.bmp")]
    public async Task A_header_declaring_more_pixels_than_the_limit_is_a_422_image_too_large(string file)
    {
        using var response = await _client.PostFileAsync(TestImages.Path(file));

        await AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "image_too_large");
        Assert.That(Directory.GetFiles(_factory.UploadsPath), Is.Empty);
    }

    [Test]
    public async Task The_pixel_limit_is_a_setting()
    {
        using var limited = new ThumbnailApiFactory(new Dictionary<string, string?> { ["ThumbnailApi:MaxPixels"] = "300000" });
        using var client = limited.CreateApiClient();

        using var response = await client.PostFileAsync(TestImages.Path("photo.jpg")); // 640×480 = 307 200 pixels

        var body = await AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "image_too_large");
        Assert.That(body.GetProperty("message").GetString(), Does.Contain("640×480"));
    }

    [TestCase("damaged/truncated.jpg")]
    [TestCase("damaged/truncated.png")]
    [TestCase("damaged/truncated.gif")]
    [TestCase("damaged/truncated.tif")]
    public async Task A_file_that_breaks_off_while_decoding_ends_the_task_failed_with_corrupt_image(string file)
    {
        var id = await _client.UploadAsync(TestImages.Path(file));
        var status = await _client.WaitUntilFinishedAsync(id);

        Assert.That(status.GetProperty("task_status").GetString(), Is.EqualTo("FAILED"));
        Assert.That(status.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("corrupt_image"));
        Assert.That(status.GetProperty("error").GetProperty("message").GetString(), Is.Not.Empty);
    }

    [Test]
    public async Task An_unknown_task_id_is_a_404_with_the_task_not_found_code()
    {
        var (status, body) = await _client.GetStatusAsync(new string('a', 32));

        Assert.That(status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(body.GetProperty("code").GetString(), Is.EqualTo("task_not_found"));
        Assert.That(body.GetProperty("error_code").GetInt32(), Is.EqualTo(404));
        Assert.That(body.GetProperty("task_id").GetString(), Is.EqualTo(new string('a', 32)));
    }

    [TestCase("not-an-id")]
    [TestCase("..%2F..%2Fthumbnails.db")]
    [TestCase("0123456789abcdef0123456789abcdeg")]
    public async Task A_malformed_task_id_is_a_404(string id)
    {
        using var response = await _client.Http.GetAsync($"{ApiClient.Api}/{id}");

        await AssertErrorAsync(response, HttpStatusCode.NotFound, "task_not_found");
    }

    [Test]
    public async Task An_unknown_address_is_a_json_404()
    {
        using var response = await _client.Http.GetAsync("/no/such/page");

        await AssertErrorAsync(response, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task A_wrong_method_is_a_json_405()
    {
        using var response = await _client.Http.PutAsync($"{ApiClient.Api}/", new StringContent("x"));

        await AssertErrorAsync(response, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
    }

    [TestCase("POST", "/", "GET")]
    [TestCase("PUT", "/index.html", "GET")]
    [TestCase("DELETE", "/app.js", "GET")]
    [TestCase("POST", "/favicon.ico", "GET")]
    [TestCase("PUT", "/api/v1/thumbnail_generator/", "POST")]
    [TestCase("POST", "/healthz", "GET")]
    public async Task Every_wrong_method_on_an_existing_address_is_a_json_405_naming_the_allowed_ones(string method, string path, string allowed)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("x") };
        using var response = await _client.Http.SendAsync(request);

        await AssertErrorAsync(response, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        Assert.That(response.Content.Headers.Allow, Does.Contain(allowed), $"{method} {path}: Allow");
    }

    [Test]
    public async Task The_page_has_an_icon()
    {
        using var response = await _client.Http.GetAsync("/favicon.ico");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("image/x-icon"));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.That(bytes.Take(4), Is.EqualTo(new byte[] { 0, 0, 1, 0 }), "an ICO header");
    }

    [Test]
    public async Task The_thumbnail_of_a_failed_task_is_a_409()
    {
        var id = await _client.UploadAsync(TestImages.Path("damaged/truncated.jpg"));
        await _client.WaitUntilFinishedAsync(id);

        using var response = await _client.Http.GetAsync($"{ApiClient.Api}/{id}/thumbnail");

        await AssertErrorAsync(response, HttpStatusCode.Conflict, "task_failed");
    }

    [Test]
    public async Task Every_response_tells_browsers_not_to_sniff_its_type()
    {
        using var response = await _client.Http.GetAsync("/no/such/page");

        Assert.That(response.Headers.GetValues("X-Content-Type-Options"), Is.EqualTo(new[] { "nosniff" }));
    }

    /// <summary>Checks the API.md error body and returns it.</summary>
    public static async Task<JsonElement> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode expected, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(expected), text);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"), text);
        var body = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Multiple(() =>
        {
            Assert.That(body.GetProperty("status").GetString(), Is.EqualTo("failed"));
            Assert.That(body.GetProperty("error_code").GetInt32(), Is.EqualTo((int)expected));
            Assert.That(body.GetProperty("code").GetString(), Is.EqualTo(code));
            Assert.That(body.GetProperty("message").GetString(), Is.Not.Empty);
        });
        return body;
    }
}

using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// The resource attacks of test_images/hostile/resources/ (issue 11), over HTTP with the default
/// settings: what no thumbnail needs is refused at upload, naming the limit, before anything is
/// decoded; what a thumbnail may legally cost is decoded within the decoding-memory budget, each task
/// reserving what its header says it needs and waiting while others hold the budget.
/// </summary>
[TestFixture]
public sealed class ResourceLimitTests : OneServiceFixture
{
    private const string Resources = "hostile/resources/";

    [TestCase("tiff-spp1536-tiles.tif")]
    [TestCase("tiff-spp1024-rgb-strips.tif")]
    public async Task A_tiff_with_hundreds_of_samples_per_pixel_is_refused_at_upload_naming_the_samples_limit(string file)
    {
        using var response = await Client.PostFileAsync(TestImages.Path(Resources + file));

        var body = await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_format");
        Assert.That(body.GetProperty("message").GetString(), Does.Contain("samples per pixel").And.Contain("at most 8"));
        Assert.That(Directory.GetFiles(Factory.UploadsPath), Is.Empty);
    }

    [TestCase("tiff-bps64-grey.tif", 64)]
    [TestCase("tiff-bps128-rgb.tif", 128)]
    [TestCase("tiff-bps3000-grey.tif", 3000)]
    public async Task A_tiff_with_a_bit_depth_libtiff_cannot_convert_is_refused_at_upload_naming_the_depth(string file, int bits)
    {
        using var response = await Client.PostFileAsync(TestImages.Path(Resources + file));

        var body = await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_format");
        Assert.That(body.GetProperty("message").GetString(), Does.Contain($"TIFF images with {bits}-bit").And.Contain("save it as an 8- or 16-bit TIFF"));
    }

    [TestCase("tiff-pages-65535.tif")]
    [TestCase("tiff-pages-65536.tif")]
    [TestCase("tiff-pages-100000.tif")]
    [TestCase("tiff-pages-70000-overlapping.tif")]
    [TestCase("tiff-pages-1001-real.tif")]
    [TestCase("bigtiff-pages-70000.tif")]
    public async Task A_tiff_with_more_pages_than_the_frame_limit_is_refused_at_upload_however_its_count_would_wrap(string file)
    {
        using var response = await Client.PostFileAsync(TestImages.Path(Resources + file));

        var body = await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "image_too_large");
        Assert.That(body.GetProperty("message").GetString(), Does.Contain("more than 1000 pages"));
    }

    [Test]
    public async Task A_tiff_whose_one_tile_is_the_whole_picture_is_refused_at_upload_naming_the_block_limit()
    {
        using var response = await Client.PostFileAsync(TestImages.Path(Resources + "tiff-10000x10000-rgb16-one-tile.tif"));

        var body = await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "image_too_large");
        Assert.That(body.GetProperty("message").GetString(), Does.Contain("tiles of 10000×10000").And.Contain("64 MB per block"));
    }

    [TestCase("png-10000x10000-rgba16-interlaced.png")]
    [TestCase("png-10000x10000-grey16-interlaced.png")]
    public async Task An_image_that_alone_needs_more_than_the_decoding_budget_is_refused_at_upload_naming_the_limit(string file)
    {
        using var response = await Client.PostFileAsync(TestImages.Path(Resources + file));

        var body = await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "image_too_large");
        Assert.That(body.GetProperty("message").GetString(), Does.Contain("MaxDecodeMemoryBytes").And.Contain("512 MB"));
    }

    [Test]
    public async Task A_gif_of_seventy_thousand_frames_is_refused_at_upload()
    {
        using var response = await Client.PostFileAsync(TestImages.Path(Resources + "gif-70000-frames-1x1.gif"));

        var body = await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "image_too_large");
        Assert.That(body.GetProperty("message").GetString(), Does.Contain("70000 frames"));
    }

    [TestCase("png-10000x10000-rgb.png")]
    [TestCase("gif-10000x10000.gif")]
    [TestCase("tiff-10000x10000-rgb8-strip.tif")]
    [TestCase("bigtiff-10000x10000-grey16-two-strips.tif")]
    public async Task A_legal_100_megapixel_upload_becomes_a_thumbnail_within_the_budget(string file)
    {
        var id = await Client.UploadAsync(TestImages.Path(Resources + file));

        var done = await Client.WaitUntilFinishedAsync(id, TimeSpan.FromSeconds(60));

        Assert.That(done.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"), done.ToString());
    }

    [Test]
    public async Task With_a_smaller_budget_the_same_picture_is_refused_at_upload_and_the_message_names_the_setting()
    {
        using var small = new ThumbnailApiFactory(new Dictionary<string, string?> { ["ThumbnailApi:MaxDecodeMemoryBytes"] = $"{256 << 20}" });
        using var client = small.CreateApiClient();

        using var response = await client.PostFileAsync(TestImages.Path(Resources + "png-10000x10000-rgb.png"));

        var body = await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "image_too_large");
        Assert.That(body.GetProperty("message").GetString(), Does.Contain("MaxDecodeMemoryBytes").And.Contain("256 MB"));
        Assert.That(Directory.GetFiles(small.UploadsPath), Is.Empty);
    }

    [Test]
    public async Task Two_tasks_that_together_need_more_than_the_budget_are_decoded_one_after_the_other()
    {
        // Each 100 MP PNG needs ~391 MB: a 600 MB budget holds one at a time, though two workers are free.
        using var gate = new GatedThumbnailer();
        using var service = new ThumbnailApiFactory(
            new Dictionary<string, string?> { ["ThumbnailApi:MaxDecodeMemoryBytes"] = $"{600 << 20}", ["ThumbnailApi:WorkerCount"] = "2" },
            s => s.AddSingleton<IThumbnailer>(gate));
        using var client = service.CreateApiClient();

        var first = await client.UploadAsync(TestImages.Path(Resources + "png-10000x10000-rgb.png"));
        var second = await client.UploadAsync(TestImages.Path(Resources + "gif-10000x10000.gif"));
        await gate.WaitUntilHeldAsync();

        Assert.That(await Eventually.TrueAsync(async () => (await WorkersAsync(client)).GetProperty("waiting_for_memory").GetInt32() == 1),
            Is.True, "the second task waits for memory");
        var workers = await WorkersAsync(client);
        Assert.That(workers.GetProperty("decode_memory_reserved_bytes").GetInt64(), Is.InRange(300L << 20, 600L << 20));
        Assert.That(gate.Entered, Is.EqualTo(1), "only one task is decoding");

        gate.Open();
        Assert.That((await client.WaitUntilFinishedAsync(first, TimeSpan.FromSeconds(60))).GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
        Assert.That((await client.WaitUntilFinishedAsync(second, TimeSpan.FromSeconds(60))).GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
        Assert.That((await WorkersAsync(client)).GetProperty("decode_memory_reserved_bytes").GetInt64(), Is.Zero, "every reservation was given back");
    }

    private static async Task<JsonElement> WorkersAsync(ApiClient client)
    {
        using var response = await client.Http.GetAsync("/readyz");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return body.GetProperty("checks").GetProperty("workers").GetProperty("data").Clone();
    }
}

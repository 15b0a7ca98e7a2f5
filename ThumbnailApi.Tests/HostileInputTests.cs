using System.Net;
using System.Text.Json;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// The files of test_images/hostile/ (made by make_hostile_images.py) and damaged copies of the
/// photos, uploaded over HTTP: bombs are refused from the header, disguises by their bytes, and
/// damage ends in corrupt_image. Never a 5xx, never a task left pending.
/// </summary>
[TestFixture]
public sealed class HostileInputTests : OneServiceFixture
{
    [TestCase("hostile/png-zlib-bomb-header.png")]
    [TestCase("hostile/gif-500-frames-5000x5000.gif")]
    [TestCase("hostile/gif-5000-frames.gif")]
    [TestCase("hostile/jpeg-progressive-5000-scans.jpg")]
    [TestCase("hostile/jpeg-progressive-120-scans.jpg")]
    [TestCase("hostile/webp-16383x16383.webp")]
    public async Task A_bomb_is_refused_from_its_header_with_422_image_too_large_and_nothing_is_kept(string file)
    {
        using var response = await Client.PostFileAsync(TestImages.Path(file));

        await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "image_too_large");
        Assert.That(Directory.GetFiles(Factory.UploadsPath), Is.Empty);
    }

    [TestCase("hostile/mov.png")]
    public async Task A_video_or_other_container_named_like_an_image_is_a_415(string file)
    {
        using var response = await Client.PostFileAsync(TestImages.Path(file));

        await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_format");
    }

    [Test]
    public async Task A_HEIC_container_with_no_picture_in_it_is_refused_as_damaged_or_as_unreadable_here()
    {
        using var response = await Client.PostFileAsync(TestImages.Path("hostile/heic.jpg"));

        if (ThumbnailApi.Imaging.Heif.HeifLibrary.Support.Hevc)
        {
            await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "corrupt_image");
        }
        else
        {
            await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_format");
            Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("apt-get install libheif1"));
        }
    }

    [TestCase("hostile/empty.jpg")]
    [TestCase("hostile/empty.png")]
    [TestCase("hostile/empty.gif")]
    [TestCase("hostile/empty.bmp")]
    [TestCase("disguised/empty.tiff")]
    public async Task An_empty_file_named_like_an_image_is_a_400_missing_image(string file)
    {
        using var response = await Client.PostFileAsync(TestImages.Path(file));

        await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "missing_image");
    }

    [Test]
    public async Task The_jpeg_signature_alone_is_a_422_corrupt_image()
    {
        using var response = await Client.PostFileAsync(TestImages.Path("hostile/jpeg-magic-only.jpg"));

        await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "corrupt_image");
    }

    [TestCase("hostile/png-zlib-2gib.png")]
    [TestCase("hostile/png-iccp-bomb.png")]
    [TestCase("hostile/tiff-ifd-loop.tif")]
    public async Task A_bomb_the_header_cannot_show_finishes_as_a_thumbnail_or_corrupt_image(string file)
    {
        var outcome = await OutcomeOfAsync(File.ReadAllBytes(TestImages.Path(file)), Path.GetFileName(file));

        Assert.That(outcome, Is.AnyOf("SUCCESS", "corrupt_image"));
    }

    [TestCase("photo.jpg")]
    [TestCase("photo-progressive.jpg")]
    [TestCase("alpha.png")]
    [TestCase("photo.gif")]
    [TestCase("photo.bmp")]
    [TestCase("photo.tif")]
    [TestCase("photo.webp")]
    public async Task A_photo_cut_at_every_tenth_of_its_length_is_a_422_or_a_task_failed_with_corrupt_image(string file)
    {
        var bytes = TestImages.Bytes(file);
        for (var tenth = 1; tenth <= 9; tenth++)
        {
            var outcome = await OutcomeOfAsync(bytes[..(bytes.Length * tenth / 10)], file);

            Assert.That(outcome, Is.EqualTo("corrupt_image"), $"{file} cut at {tenth}0 %");
        }
    }

    [TestCase("photo.jpg")]
    [TestCase("alpha.png")]
    [TestCase("photo.gif")]
    [TestCase("photo.tif")]
    [TestCase("photo.webp")]
    public async Task A_photo_with_random_bytes_written_over_its_middle_is_a_thumbnail_or_corrupt_image(string file)
    {
        var random = new Random(4);
        for (var round = 0; round < 5; round++)
        {
            var bytes = TestImages.Bytes(file);
            random.NextBytes(bytes.AsSpan(bytes.Length / 3 + random.Next(bytes.Length / 3), 16));

            var outcome = await OutcomeOfAsync(bytes, file);

            Assert.That(outcome, Is.AnyOf("SUCCESS", "corrupt_image"), $"{file} round {round}");
        }
    }

    [Test]
    public async Task The_scan_limit_is_a_setting_and_past_it_the_decoder_still_fails_the_file_cleanly()
    {
        using var relaxed = new ThumbnailApiFactory(new Dictionary<string, string?> { ["ThumbnailApi:MaxJpegScans"] = "500" });
        using var client = relaxed.CreateApiClient();

        var id = await client.UploadAsync(TestImages.Path("hostile/jpeg-progressive-120-scans.jpg"));
        var status = await client.WaitUntilFinishedAsync(id);

        // Skia's libjpeg wrapper gives up after 100 scans on its own.
        Assert.That(status.GetProperty("task_status").GetString(), Is.EqualTo("FAILED"));
        Assert.That(status.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("corrupt_image"));
    }

    [Test]
    public async Task The_frame_limit_is_a_setting()
    {
        using var strict = new ThumbnailApiFactory(new Dictionary<string, string?> { ["ThumbnailApi:MaxFrames"] = "4" });
        using var client = strict.CreateApiClient();

        using var response = await client.PostFileAsync(TestImages.Path("gif/animated.gif")); // 5 frames

        var body = await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "image_too_large");
        Assert.That(body.GetProperty("message").GetString(), Does.Contain("5 frames"));
    }

    [Test]
    public async Task The_limit_on_all_frames_together_is_a_setting()
    {
        using var strict = new ThumbnailApiFactory(new Dictionary<string, string?> { ["ThumbnailApi:MaxTotalPixels"] = "100000" });
        using var client = strict.CreateApiClient();

        using var response = await client.PostFileAsync(TestImages.Path("gif/animated.gif"));

        await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "image_too_large");
    }

    /// <summary>"SUCCESS", or the error code of a 4xx at upload or of the FAILED task. Fails the test on a 5xx.</summary>
    private async Task<string> OutcomeOfAsync(byte[] bytes, string fileName)
    {
        using var response = await Client.PostBytesAsync(bytes, fileName);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.That((int)response.StatusCode, Is.LessThan(500), body.ToString());
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            return body.GetProperty("code").GetString()!;
        }

        var status = await Client.WaitUntilFinishedAsync(body.GetProperty("task_id").GetString()!);
        return status.GetProperty("task_status").GetString() == "SUCCESS"
            ? "SUCCESS"
            : status.GetProperty("error").GetProperty("code").GetString()!;
    }
}

using Dapper;
using Microsoft.Extensions.DependencyInjection;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>The same bytes with the same options are thumbnailed once; later uploads reuse the result.</summary>
[TestFixture]
public sealed class DeduplicationTests
{
    [Test]
    public async Task A_second_upload_of_the_same_bytes_and_options_reuses_the_thumbnail_without_decoding()
    {
        var counting = new CountingThumbnailer();
        using var factory = new ThumbnailApiFactory(services: s => s.AddSingleton<IThumbnailer>(counting));
        using var client = factory.CreateApiClient();

        var first = await client.UploadAsync(TestImages.Path("photo.jpg"));
        await client.WaitUntilFinishedAsync(first);
        var second = await client.UploadAsync(TestImages.Path("photo.jpg"));
        var status = await client.WaitUntilFinishedAsync(second);

        Assert.That(status.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
        Assert.That(counting.Calls, Is.EqualTo(1), "the second task is completed from the first one's thumbnail");
        using var one = await client.Http.GetAsync($"{ApiClient.Api}/{first}/thumbnail");
        using var two = await client.Http.GetAsync($"{ApiClient.Api}/{second}/thumbnail");
        Assert.That(await two.Content.ReadAsByteArrayAsync(), Is.EqualTo(await one.Content.ReadAsByteArrayAsync()));
        Assert.That(two.Headers.ETag, Is.EqualTo(one.Headers.ETag));
        Assert.That(status.GetProperty("image").GetProperty("name").GetString(), Is.EqualTo("photo.jpg"));
    }

    [TestCase("width", "64")]
    [TestCase("height", "64")]
    [TestCase("fit", "contain")]
    [TestCase("format", "webp")]
    [TestCase("quality", "40")]
    public async Task The_same_bytes_with_another_option_are_thumbnailed_again(string option, string value)
    {
        var counting = new CountingThumbnailer();
        using var factory = new ThumbnailApiFactory(services: s => s.AddSingleton<IThumbnailer>(counting));
        using var client = factory.CreateApiClient();

        await client.WaitUntilFinishedAsync(await client.UploadAsync(TestImages.Path("alpha.png")));
        var other = await client.UploadAsync(TestImages.Path("alpha.png"), new Dictionary<string, string> { [option] = value });
        var status = await client.WaitUntilFinishedAsync(other);

        Assert.That(counting.Calls, Is.EqualTo(2));
        Assert.That(status.GetProperty("options").GetProperty(option).ToString(), Is.EqualTo(value));
    }

    [Test]
    public async Task A_failed_task_is_never_reused_the_same_bytes_are_decoded_again()
    {
        var counting = new CountingThumbnailer();
        using var factory = new ThumbnailApiFactory(services: s => s.AddSingleton<IThumbnailer>(counting));
        using var client = factory.CreateApiClient();

        var first = await client.WaitUntilFinishedAsync(await client.UploadAsync(TestImages.Path("damaged/truncated.png")));
        var second = await client.WaitUntilFinishedAsync(await client.UploadAsync(TestImages.Path("damaged/truncated.png")));

        Assert.That(first.GetProperty("task_status").GetString(), Is.EqualTo("FAILED"));
        Assert.That(second.GetProperty("task_status").GetString(), Is.EqualTo("FAILED"));
        Assert.That(counting.Calls, Is.EqualTo(2));
    }

    [Test]
    public async Task A_thumbnail_made_by_an_earlier_pipeline_revision_is_not_reused()
    {
        var counting = new CountingThumbnailer();
        using var factory = new ThumbnailApiFactory(services: s => s.AddSingleton<IThumbnailer>(counting));
        using var client = factory.CreateApiClient();
        var first = await client.UploadAsync(TestImages.Path("photo.jpg"));
        await client.WaitUntilFinishedAsync(first);
        using (var db = factory.OpenDatabase())
        {
            Assert.That(db.ExecuteScalar<int>("SELECT pipeline_revision FROM tasks WHERE id = @first", new { first }), Is.EqualTo(ThumbnailPipeline.Revision));
            db.Execute("UPDATE tasks SET pipeline_revision = @older WHERE id = @first", new { first, older = ThumbnailPipeline.Revision - 1 });
        }

        await client.WaitUntilFinishedAsync(await client.UploadAsync(TestImages.Path("photo.jpg")));

        Assert.That(counting.Calls, Is.EqualTo(2));
    }

    [Test]
    public async Task When_the_earlier_thumbnail_file_is_gone_the_image_is_decoded_again()
    {
        var counting = new CountingThumbnailer();
        using var factory = new ThumbnailApiFactory(services: s => s.AddSingleton<IThumbnailer>(counting));
        using var client = factory.CreateApiClient();
        var first = await client.UploadAsync(TestImages.Path("alpha.png"));
        await client.WaitUntilFinishedAsync(first);
        foreach (var file in Directory.GetFiles(factory.ThumbnailsPath))
        {
            File.Delete(file); // the one stored copy of that thumbnail
        }

        var second = await client.UploadAsync(TestImages.Path("alpha.png"));
        var status = await client.WaitUntilFinishedAsync(second);

        Assert.That(status.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
        Assert.That(counting.Calls, Is.EqualTo(2));
    }

    [Test]
    public async Task With_reuse_turned_off_every_upload_is_decoded()
    {
        var counting = new CountingThumbnailer();
        using var factory = new ThumbnailApiFactory(
            settings: new Dictionary<string, string?> { ["ThumbnailApi:ReuseIdenticalUploads"] = "false" },
            services: s => s.AddSingleton<IThumbnailer>(counting));
        using var client = factory.CreateApiClient();

        await client.WaitUntilFinishedAsync(await client.UploadAsync(TestImages.Path("photo.jpg")));
        await client.WaitUntilFinishedAsync(await client.UploadAsync(TestImages.Path("photo.jpg")));

        Assert.That(counting.Calls, Is.EqualTo(2));
    }

    [Test]
    public async Task Every_task_records_the_sha256_of_its_upload()
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateApiClient();

        var id = await client.UploadAsync(TestImages.Path("photo.gif"));

        using var db = factory.OpenDatabase();
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(TestImages.Bytes("photo.gif")));
        Assert.That(db.ExecuteScalar<string>("SELECT content_hash FROM tasks WHERE id = @id", new { id }), Is.EqualTo(expected));
    }
}

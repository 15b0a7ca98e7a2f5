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

    [Test]
    public async Task The_same_bytes_with_other_options_are_thumbnailed_again()
    {
        var counting = new CountingThumbnailer();
        using var factory = new ThumbnailApiFactory(services: s => s.AddSingleton<IThumbnailer>(counting));
        using var client = factory.CreateApiClient();

        await client.WaitUntilFinishedAsync(await client.UploadAsync(TestImages.Path("photo.jpg")));
        var other = await client.UploadAsync(TestImages.Path("photo.jpg"), new Dictionary<string, string> { ["width"] = "64" });
        var status = await client.WaitUntilFinishedAsync(other);

        Assert.That(counting.Calls, Is.EqualTo(2));
        Assert.That(status.GetProperty("image").GetProperty("width").GetInt32(), Is.EqualTo(64));
    }

    [Test]
    public async Task When_the_earlier_thumbnail_file_is_gone_the_image_is_decoded_again()
    {
        var counting = new CountingThumbnailer();
        using var factory = new ThumbnailApiFactory(services: s => s.AddSingleton<IThumbnailer>(counting));
        using var client = factory.CreateApiClient();
        var first = await client.UploadAsync(TestImages.Path("alpha.png"));
        await client.WaitUntilFinishedAsync(first);
        File.Delete(Path.Combine(factory.ThumbnailsPath, $"{first}.png"));

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

    /// <summary>The real pipeline, counting how often it runs.</summary>
    private sealed class CountingThumbnailer : IThumbnailer
    {
        private readonly ThumbnailPipeline _pipeline = new(new ImagingLimits());
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public EncodedThumbnail Create(Stream input, ThumbnailSpec spec, CancellationToken cancellation = default)
        {
            Interlocked.Increment(ref _calls);
            return _pipeline.Create(input, spec, cancellation);
        }
    }
}

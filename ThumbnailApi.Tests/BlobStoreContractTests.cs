using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using ThumbnailApi.Blobs;
using ThumbnailApi.Persistence;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// What the service relies on from a blob store, run against each implementation: the data folder,
/// an S3-compatible bucket (s3rver, started by the tests on a loopback port) and the same bucket
/// under a key prefix.
/// </summary>
[TestFixtureSource(nameof(Stores))]
public sealed class BlobStoreContractTests(string kind)
{
    private static readonly string[] Stores = ["local", "s3", "s3 with a prefix"];

    private string _folder = null!;
    private IBlobStore _store = null!;
    private string? _bucket;
    private S3Server? _s3;

    [SetUp]
    public async Task CreateStore()
    {
        _folder = Directory.CreateTempSubdirectory("thumbnailapi-blobs-").FullName;
        if (kind == "local")
        {
            // The service makes these folders at start-up.
            Directory.CreateDirectory(Path.Combine(_folder, "uploads"));
            Directory.CreateDirectory(Path.Combine(_folder, "thumbnails"));
            _store = new LocalBlobStore(_folder);
            return;
        }

        _s3 = Requires.S3();
        _bucket = await _s3.CreateBucketAsync();
        _store = S3Store(_bucket, kind == "s3" ? null : "tenant-a/");
    }

    [TearDown]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public async Task What_is_put_is_read_back_byte_for_byte_with_its_length()
    {
        var bytes = RandomBytes(3 * 1024 * 1024 + 17);
        var key = UploadKey();
        await _store.PutAsync(key, new MemoryStream(bytes), bytes.Length);

        await using var content = await _store.OpenReadAsync(key);

        Assert.That(content, Is.Not.Null);
        Assert.That(content!.Length, Is.EqualTo(bytes.Length));
        Assert.That(await ReadAllAsync(content.Stream), Is.EqualTo(bytes), "no framing (aws-chunked) or truncation in the stored object");
    }

    [Test]
    public async Task An_empty_blob_is_stored_and_read_back_empty()
    {
        var key = ThumbnailKey([]);
        await _store.PutAsync(key, new MemoryStream(), 0);

        await using var content = await _store.OpenReadAsync(key);

        Assert.That(content!.Length, Is.Zero);
        Assert.That(await ReadAllAsync(content.Stream), Is.Empty);
    }

    [Test]
    public async Task A_put_under_an_existing_key_replaces_the_blob()
    {
        var key = UploadKey();
        await _store.PutAsync(key, new MemoryStream(RandomBytes(5000)), 5000);
        var second = RandomBytes(1200);
        await _store.PutAsync(key, new MemoryStream(second), second.Length);

        await using var content = await _store.OpenReadAsync(key);

        Assert.That(await ReadAllAsync(content!.Stream), Is.EqualTo(second));
    }

    [Test]
    public async Task Puts_of_the_same_bytes_under_one_key_at_the_same_moment_all_succeed_and_leave_one_whole_blob()
    {
        // Thumbnails are stored by content: workers that made the same thumbnail put it at the same time.
        var bytes = RandomBytes(512 * 1024);
        var key = ThumbnailKey(bytes);

        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => _store.PutAsync(key, new MemoryStream(bytes), bytes.Length))));

        await using var content = await _store.OpenReadAsync(key);
        Assert.That(await ReadAllAsync(content!.Stream), Is.EqualTo(bytes));
        Assert.That(await ListedKeysAsync(BlobKeys.Thumbnails), Is.EqualTo(new[] { key }), "no temporary file left behind");
    }

    [Test]
    public async Task A_put_reads_only_the_given_length_of_a_stream_positioned_past_its_start()
    {
        var bytes = RandomBytes(10_000);
        var source = new MemoryStream(bytes) { Position = 1000 };
        var key = UploadKey();

        await _store.PutAsync(key, source, 8000);

        await using var content = await _store.OpenReadAsync(key);
        Assert.That(await ReadAllAsync(content!.Stream), Is.EqualTo(bytes[1000..9000]));
    }

    [Test]
    public async Task A_missing_blob_reads_as_null_opens_as_file_not_found_and_deletes_without_error()
    {
        var key = UploadKey();

        Assert.That(await _store.OpenReadAsync(key), Is.Null);
        await Assert.ThatAsync(() => _store.OpenSeekableAsync(key), Throws.InstanceOf<FileNotFoundException>());
        await Assert.ThatAsync(() => _store.DeleteAsync(key), Throws.Nothing);
    }

    [Test]
    public async Task A_blobs_length_is_its_byte_count_and_null_when_there_is_none()
    {
        var key = UploadKey();
        Assert.That(await _store.LengthAsync(key), Is.Null);

        await _store.PutAsync(key, new MemoryStream(RandomBytes(1234)), 1234);
        Assert.That(await _store.LengthAsync(key), Is.EqualTo(1234));

        await _store.DeleteAsync(key);
        Assert.That(await _store.LengthAsync(key), Is.Null);
    }

    [Test]
    public async Task A_deleted_blob_is_gone()
    {
        var key = UploadKey();
        await _store.PutAsync(key, new MemoryStream(RandomBytes(100)), 100);

        await _store.DeleteAsync(key);

        Assert.That(await _store.OpenReadAsync(key), Is.Null);
        Assert.That(await ListedKeysAsync(BlobKeys.Uploads), Does.Not.Contain(key));
    }

    [Test]
    public async Task The_decoders_get_a_seekable_view_of_the_whole_blob_and_nothing_of_it_stays_behind_when_they_close_it()
    {
        var bytes = RandomBytes(700_000);
        var key = UploadKey();
        await _store.PutAsync(key, new MemoryStream(bytes), bytes.Length);

        await using (var view = await _store.OpenSeekableAsync(key))
        {
            Assert.That(view.CanSeek, Is.True);
            Assert.That(view.Length, Is.EqualTo(bytes.Length));
            view.Seek(-10, SeekOrigin.End);
            var tail = new byte[10];
            await view.ReadExactlyAsync(tail);
            Assert.That(tail, Is.EqualTo(bytes[^10..]));
            view.Position = 0;
            Assert.That(await ReadAllAsync(view), Is.EqualTo(bytes));
        }

        var scratch = Path.Combine(_folder, "scratch");
        Assert.That(Directory.Exists(scratch) ? Directory.GetFiles(scratch) : [], Is.Empty, "the temporary copy is deleted with the stream");
    }

    [Test]
    public async Task A_listing_gives_every_blob_under_the_prefix_with_its_size_and_last_write_and_nothing_else()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-5);
        var uploads = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var key = UploadKey();
            await _store.PutAsync(key, new MemoryStream(RandomBytes(100 + i)), 100 + i);
            uploads.Add(key);
        }

        var thumbnail = RandomBytes(64);
        await _store.PutAsync(ThumbnailKey(thumbnail), new MemoryStream(thumbnail), thumbnail.Length);

        var listed = new List<BlobInfo>();
        await foreach (var blob in _store.ListAsync(BlobKeys.Uploads))
        {
            listed.Add(blob);
        }

        Assert.That(listed.Select(blob => blob.Key), Is.EquivalentTo(uploads));
        Assert.That(listed.Select(blob => blob.Size), Is.EquivalentTo(new long[] { 100, 101, 102 }));
        Assert.That(listed.Select(blob => blob.LastModified), Has.All.InRange(before, DateTimeOffset.UtcNow.AddSeconds(5)));
        Assert.That(await ListedKeysAsync(BlobKeys.Thumbnails), Is.EqualTo(new[] { ThumbnailKey(thumbnail) }));
    }

    [Test]
    public async Task A_listing_longer_than_one_page_gives_every_blob_once()
    {
        // S3 answers ListObjectsV2 1000 keys at a time; the store follows the continuation tokens.
        var keys = new HashSet<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 1234), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (_, cancellation) =>
        {
            var bytes = RandomBytes(16);
            var key = ThumbnailKey(bytes);
            await _store.PutAsync(key, new MemoryStream(bytes), bytes.Length, cancellation);
            lock (keys)
            {
                keys.Add(key);
            }
        });

        var listed = await ListedKeysAsync(BlobKeys.Thumbnails);

        Assert.That(listed, Has.Count.EqualTo(1234));
        Assert.That(listed, Is.EquivalentTo(keys));
    }

    [Test]
    public async Task A_key_outside_the_services_own_names_is_refused()
    {
        foreach (var key in new[] { "../etc/passwd", "uploads/../../x", "uploads/a b", "/uploads/x", "uploads//x", "" })
        {
            await Assert.ThatAsync(() => _store.PutAsync(key, new MemoryStream([1]), 1), Throws.InstanceOf<ArgumentException>(), key);
            await Assert.ThatAsync(() => _store.OpenReadAsync(key), Throws.InstanceOf<ArgumentException>(), key);
        }
    }

    [Test]
    public async Task A_call_its_caller_cancelled_ends_as_a_cancellation_never_as_storage_trouble()
    {
        // A worker whose lease is lost cancels its read: that must not look like an outage (503, wait, retry).
        var key = UploadKey();
        await _store.PutAsync(key, new MemoryStream(RandomBytes(1000)), 1000);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var calls = new Dictionary<string, Func<Task>>
        {
            ["put"] = () => _store.PutAsync(UploadKey(), new MemoryStream(RandomBytes(1000)), 1000, cancelled.Token),
            ["open for reading"] = async () => await ((await _store.OpenReadAsync(key, cancelled.Token))?.DisposeAsync() ?? ValueTask.CompletedTask),
            ["open seekable"] = async () => await (await _store.OpenSeekableAsync(key, cancelled.Token)).DisposeAsync(),
            ["delete"] = () => _store.DeleteAsync(key, cancelled.Token),
        };

        foreach (var (name, call) in calls)
        {
            Assert.That(await OutcomeAsync(call), Is.Null.Or.InstanceOf<OperationCanceledException>(), name);
        }
    }

    [Test]
    public async Task A_usable_store_is_healthy_and_its_probe_leaves_nothing_behind()
    {
        var health = await _store.CheckHealthAsync();

        Assert.That(health.Healthy, Is.True, health.Description);
        if (_s3 is not null)
        {
            Assert.That(await _s3.KeysAsync(_bucket!), Is.Empty);
        }
        else
        {
            Assert.That(Directory.GetFiles(_folder, "*", SearchOption.AllDirectories), Is.Empty);
        }
    }

    [Test]
    public async Task A_store_that_cannot_be_reached_is_unhealthy_and_its_operations_fail_as_storage_unavailable()
    {
        IBlobStore broken;
        if (_s3 is null)
        {
            Directory.Delete(Path.Combine(_folder, "uploads"));
            broken = _store;
        }
        else
        {
            // Nothing listens on this port.
            broken = S3Store(_bucket!, null, $"http://127.0.0.1:{FreePort.OnLoopback()}");
        }

        var health = await broken.CheckHealthAsync();

        Assert.That(health.Healthy, Is.False);
        Assert.That(health.Description, Does.Not.Contain("127.0.0.1").And.Not.Contain(_folder).And.Not.Contain(S3Server.SecretKey));
        await Assert.ThatAsync(() => broken.PutAsync(UploadKey(), new MemoryStream([1, 2, 3]), 3), Throws.InstanceOf<StorageUnavailableException>());
    }

    [Test]
    public async Task A_bucket_that_does_not_exist_is_unhealthy_with_that_reason()
    {
        if (_s3 is null)
        {
            Assert.Ignore("Buckets are an S3 matter.");
        }

        var missing = S3Store($"missing-{Guid.NewGuid():N}", null);

        var health = await missing.CheckHealthAsync();

        Assert.That(health.Healthy, Is.False);
        Assert.That(health.Description, Does.Contain("bucket does not exist"));
        await Assert.ThatAsync(() => missing.PutAsync(UploadKey(), new MemoryStream([1]), 1), Throws.InstanceOf<StorageUnavailableException>());
    }

    [Test]
    public async Task Under_a_prefix_every_object_key_starts_with_it_and_the_store_sees_only_its_own_objects()
    {
        if (kind != "s3 with a prefix")
        {
            Assert.Ignore("Prefixes are an S3 matter.");
        }

        var neighbour = S3Store(_bucket!, "tenant-b/");
        var mine = UploadKey();
        var theirs = UploadKey();
        await _store.PutAsync(mine, new MemoryStream([1]), 1);
        await neighbour.PutAsync(theirs, new MemoryStream([2]), 1);

        Assert.That(await _s3!.KeysAsync(_bucket!), Is.EquivalentTo(new[] { "tenant-a/" + mine, "tenant-b/" + theirs }));
        Assert.That(await ListedKeysAsync(BlobKeys.Uploads), Is.EqualTo(new[] { mine }));
        Assert.That(await _store.OpenReadAsync(theirs), Is.Null);
    }

    [Test]
    public async Task Concurrent_puts_and_reads_of_different_keys_do_not_mix_their_bytes()
    {
        var blobs = Enumerable.Range(0, 24).Select(_ => (Key: UploadKey(), Bytes: RandomBytes(RandomNumberGenerator.GetInt32(1, 300_000)))).ToList();

        await Parallel.ForEachAsync(blobs, async (blob, cancellation) =>
            await _store.PutAsync(blob.Key, new MemoryStream(blob.Bytes), blob.Bytes.Length, cancellation));
        var readBack = await Task.WhenAll(blobs.Select(async blob =>
        {
            await using var content = await _store.OpenReadAsync(blob.Key);
            return await ReadAllAsync(content!.Stream);
        }));

        Assert.That(readBack, Is.EqualTo(blobs.Select(blob => blob.Bytes)));
    }

    private S3BlobStore S3Store(string bucket, string? prefix, string? serviceUrl = null)
    {
        var options = new S3Options { ServiceUrl = serviceUrl ?? _s3!.ServiceUrl, Bucket = bucket, Prefix = prefix, ForcePathStyle = true };
        var client = new AmazonS3Client(new Amazon.Runtime.BasicAWSCredentials(S3Server.AccessKey, S3Server.SecretKey),
            new AmazonS3Config { ServiceURL = options.ServiceUrl, ForcePathStyle = true, AuthenticationRegion = options.Region, MaxErrorRetry = 0 });
        return new S3BlobStore(client, options, Path.Combine(_folder, "scratch"));
    }

    private async Task<List<string>> ListedKeysAsync(string prefix)
    {
        var keys = new List<string>();
        await foreach (var blob in _store.ListAsync(prefix))
        {
            keys.Add(blob.Key);
        }

        return keys;
    }

    private static string UploadKey() => BlobKeys.Upload(TaskId.New());

    private static string ThumbnailKey(byte[] bytes) => BlobKeys.Thumbnail(Convert.ToHexStringLower(SHA256.HashData(bytes)), "png");

    /// <summary>What a call ended with: null when it returned, else what it threw.</summary>
    private static async Task<Exception?> OutcomeAsync(Func<Task> call)
    {
        try
        {
            await call();
            return null;
        }
        catch (Exception ended)
        {
            return ended;
        }
    }

    private static byte[] RandomBytes(int length) => RandomNumberGenerator.GetBytes(length);

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}

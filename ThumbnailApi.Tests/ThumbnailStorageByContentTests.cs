using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ThumbnailApi.Blobs;
using ThumbnailApi.Imaging;
using ThumbnailApi.Persistence;
using ThumbnailApi.Processing;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// Thumbnails are stored once per content (<c>thumbnails/{sha256}.{ext}</c>) and shared by every task
/// that made the same bytes; a shared copy goes with its last user, whether a client deletes the task
/// or retention expires it, and never while a task is just starting to use it. The whole service
/// in-process, for each database (SQLite file, PostgreSQL) and each blob store (the data folder, an
/// S3 bucket on s3rver). Interleavings are lined up with gates in the blob store and the task store,
/// not left to timing.
/// </summary>
[TestFixtureSource(nameof(Setups))]
public sealed class ThumbnailStorageByContentTests(string database, string blobs)
{
    /// <summary>A 4 KB picture (test_images/photo.webp, 4,348 bytes), as in the issue.</summary>
    private const string SmallPicture = "photo.webp";

    private static readonly Dictionary<string, string> Large = new() { ["width"] = "1024", ["height"] = "1024", ["format"] = "png" };

    private readonly List<Func<ValueTask>> _cleanUp = [];

    public static IEnumerable<object[]> Setups =>
    [
        ["sqlite", "local"],
        ["sqlite", "s3"],
        ["postgres", "local"],
        ["postgres", "s3"],
    ];

    [TearDown]
    public async Task StopServices()
    {
        foreach (var cleanUp in Enumerable.Reverse(_cleanUp))
        {
            await cleanUp();
        }

        _cleanUp.Clear();
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task Three_hundred_uploads_of_one_picture_at_1024_px_png_store_one_thumbnail_and_every_task_downloads_it(bool reuse)
    {
        // The issue's 300 on the default setup; 60 elsewhere, which still has 8 workers storing one key at
        // once many times over, at a fifth of the time (with reuse off each task encodes a 1024 px PNG).
        var uploads = (database, blobs) == ("sqlite", "local") ? 300 : 60;
        var counting = new CountingThumbnailer();
        var logs = new CapturingLoggerProvider();
        var service = await StartAsync(
            new() { ["ThumbnailApi:ReuseIdenticalUploads"] = reuse ? "true" : "false", ["ThumbnailApi:WorkerCount"] = "8" },
            s => s.AddSingleton<IThumbnailer>(counting).AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        var clock = Stopwatch.StartNew();

        var ids = new string[uploads];
        await Parallel.ForAsync(0, uploads, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (i, _) => ids[i] = await service.Client.UploadAsync(TestImages.Path(SmallPicture), Large));
        var statuses = await service.WaitUntilAllFinishedAsync(ids, TimeSpan.FromMinutes(10));
        var processed = clock.Elapsed;

        var warnings = string.Join("; ", logs.Entries.Where(entry => entry.Level >= Microsoft.Extensions.Logging.LogLevel.Warning)
            .GroupBy(entry => entry.Message.Length > 120 ? entry.Message[..120] : entry.Message).Select(group => $"{group.Count()} × {group.Key}"));
        Assert.That(statuses.Where(status => status.GetProperty("task_status").GetString() != "SUCCESS").Select(status => status.ToString()), Is.Empty, warnings);
        if (!reuse)
        {
            Assert.That(counting.Calls, Is.EqualTo(uploads), $"with reuse turned off every task decodes and stores its thumbnail itself, once. Warnings: {warnings}");
        }

        var stored = await service.ThumbnailBlobsAsync();
        Assert.That(stored.Select(blob => blob.Key).ToList(), Has.Count.EqualTo(1).And.All.Matches<string>(key => BlobKeys.IsContentThumbnail(key!)),
            "one stored copy, under its content key, and no half-written file left by the concurrent writers");
        var expected = await service.DownloadAsync(ids[0]);
        Assert.That(stored[0].Size, Is.EqualTo(expected.Length));
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, _) =>
            Assert.That(await service.DownloadAsync(id), Is.EqualTo(expected), $"the thumbnail of {id}"));

        TestContext.Out.WriteLine(
            $"{database}/{blobs}, reuse {(reuse ? "on" : "off")}: {uploads} tasks ({counting.Calls} decoded) in {processed.TotalSeconds:F1} s; "
            + $"stored {stored[0].Size:N0} bytes once, where a copy per task would be {stored[0].Size * uploads:N0} bytes. Warnings: {(warnings.Length > 0 ? warnings : "none")}");
    }

    [Test]
    public async Task Deleting_tasks_keeps_the_shared_thumbnail_until_its_last_user_is_deleted()
    {
        var service = await StartAsync(new() { ["ThumbnailApi:ReuseIdenticalUploads"] = "false" });
        var ids = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            ids.Add(await service.Client.UploadAsync(TestImages.Path(SmallPicture)));
        }

        await service.WaitUntilAllSucceededAsync(ids);
        var key = await service.ThumbnailKeyOfAsync(ids[0]);
        Assert.That(await Task.WhenAll(ids.Select(service.ThumbnailKeyOfAsync)), Is.All.EqualTo(key), "every task refers to one stored copy");
        var expected = await service.DownloadAsync(ids[0]);
        var last = ids[^1];

        // All but one, 8 at a time: deleters of one key run at the same moment.
        await Parallel.ForEachAsync(ids[..^1], new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, _) =>
        {
            using var deleted = await service.Client.DeleteAsync(id);
            Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        });

        Assert.That((await service.ThumbnailBlobsAsync()).Select(blob => blob.Key), Is.EqualTo(new[] { key }), "the last user still needs the copy");
        Assert.That(await service.DownloadAsync(last), Is.EqualTo(expected));

        using (var deleted = await service.Client.DeleteAsync(last))
        {
            Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        }

        Assert.That(await service.ThumbnailBlobsAsync(), Is.Empty, "the copy went with its last user");
    }

    [Test]
    public async Task When_the_last_two_users_are_deleted_at_the_same_moment_the_shared_thumbnail_goes()
    {
        var service = await StartAsync(new() { ["ThumbnailApi:ReuseIdenticalUploads"] = "false" });
        for (var round = 0; round < 10; round++)
        {
            var pair = new[] { await service.Client.UploadAsync(TestImages.Path(SmallPicture)), await service.Client.UploadAsync(TestImages.Path(SmallPicture)) };
            await service.WaitUntilAllSucceededAsync(pair);
            Assert.That(await service.ThumbnailBlobsAsync(), Has.Count.EqualTo(1));

            var deletions = await Task.WhenAll(pair.Select(id => service.Client.DeleteAsync(id)));

            Assert.That(deletions.Select(response => response.StatusCode), Is.All.EqualTo(HttpStatusCode.NoContent));
            Assert.That(await service.ThumbnailBlobsAsync(), Is.Empty, $"round {round}: each deleter saw the other's task and neither removed the copy");
        }
    }

    /// <summary>The three orders in which deleting the last user and a new task's use of the same thumbnail can meet.</summary>
    public enum Meeting
    {
        /// <summary>The new task refers to the key (and is about to store its bytes) before the deletion checks for users.</summary>
        NewTaskRefersFirst,

        /// <summary>The deletion holds the key's lock, deleting the blob, while the new task tries to refer to it.</summary>
        DeletionHoldsTheKeyWhileTheNewTaskRefers,

        /// <summary>The deletion removes the blob before the new task, which already has the bytes, refers to the key.</summary>
        DeletionFinishesFirst,
    }

    [Test]
    public async Task Deleting_the_last_user_while_an_identical_task_finishes_never_loses_the_new_tasks_thumbnail(
        [Values] Meeting meeting, [Values(false, true)] bool reuse)
    {
        var gates = new Gates();
        var service = await StartAsync(new() { ["ThumbnailApi:ReuseIdenticalUploads"] = reuse ? "true" : "false" }, gates.Install);
        var previous = await service.Client.UploadAsync(TestImages.Path(SmallPicture));
        await service.WaitUntilAllSucceededAsync([previous]);
        var key = await service.ThumbnailKeyOfAsync(previous);
        var expected = await service.DownloadAsync(previous);

        for (var round = 0; round < 3; round++)
        {
            var context = $"{meeting}, round {round}";
            string next;
            switch (meeting)
            {
                case Meeting.NewTaskRefersFirst:
                    gates.Puts.Arm(key);
                    next = await service.Client.UploadAsync(TestImages.Path(SmallPicture));
                    await gates.Puts.EnteredAsync();
                    using (var deleted = await service.Client.DeleteAsync(previous))
                    {
                        Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
                    }

                    Assert.That(await service.BlobExistsAsync(key), Is.True, $"{context}: the deletion saw the new task's reference and kept the copy");
                    gates.Puts.Open();
                    break;

                case Meeting.DeletionHoldsTheKeyWhileTheNewTaskRefers:
                    gates.References.Arm(key);
                    gates.Deletes.Arm(key);
                    next = await service.Client.UploadAsync(TestImages.Path(SmallPicture));
                    await gates.References.EnteredAsync();
                    var deletion = service.Client.DeleteAsync(previous);
                    await gates.Deletes.EnteredAsync();
                    gates.References.Open();
                    await Task.Delay(300);
                    Assert.That(await service.StatusOfAsync(next), Is.EqualTo("PENDING"), $"{context}: the reference waits for the key's lock");
                    gates.Deletes.Open();
                    using (var deleted = await deletion)
                    {
                        Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
                    }

                    break;

                case Meeting.DeletionFinishesFirst:
                    gates.References.Arm(key);
                    next = await service.Client.UploadAsync(TestImages.Path(SmallPicture));
                    await gates.References.EnteredAsync();
                    using (var deleted = await service.Client.DeleteAsync(previous))
                    {
                        Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
                    }

                    Assert.That(await service.BlobExistsAsync(key), Is.False, $"{context}: no task referred to the copy, so it went");
                    gates.References.Open();
                    break;

                default:
                    throw new ArgumentOutOfRangeException(nameof(meeting));
            }

            await service.WaitUntilAllSucceededAsync([next]);
            Assert.That(await service.DownloadAsync(next), Is.EqualTo(expected), $"{context}: the new task's thumbnail is stored");
            Assert.That(await service.ThumbnailKeyOfAsync(next), Is.EqualTo(key));
            previous = next;
        }

        await service.AssertNothingUnreferencedAfterASweepAsync([previous]);
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task Deleting_the_last_user_at_random_moments_while_identical_tasks_finish_leaves_every_success_downloadable(bool reuse)
    {
        const int Rounds = 40;
        var service = await StartAsync(new() { ["ThumbnailApi:ReuseIdenticalUploads"] = reuse ? "true" : "false" });
        var previous = await service.Client.UploadAsync(TestImages.Path(SmallPicture));
        await service.WaitUntilAllSucceededAsync([previous]);
        var expected = await service.DownloadAsync(previous);
        var random = new Random(13);

        for (var round = 0; round < Rounds; round++)
        {
            // The deletion starts somewhere between the upload and a while after the task finishes.
            var upload = service.Client.UploadAsync(TestImages.Path(SmallPicture));
            await Task.Delay(random.Next(0, 80));
            using (var deleted = await service.Client.DeleteAsync(previous))
            {
                Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
            }

            previous = await upload;
            await service.WaitUntilAllSucceededAsync([previous]);
            Assert.That(await service.DownloadAsync(previous), Is.EqualTo(expected), $"round {round}");
        }

        await service.AssertNothingUnreferencedAfterASweepAsync([previous]);
    }

    [Test]
    public async Task A_task_expired_by_retention_removes_its_thumbnail_only_when_it_was_the_last_user()
    {
        var service = await StartAsync(new() { ["ThumbnailApi:ReuseIdenticalUploads"] = "false" });
        var sharedOld = new[] { await service.Client.UploadAsync(TestImages.Path(SmallPicture)), await service.Client.UploadAsync(TestImages.Path(SmallPicture)) };
        var aloneOld = await service.Client.UploadAsync(TestImages.Path("alpha.png"));
        await service.WaitUntilAllSucceededAsync([.. sharedOld, aloneOld]);
        var shared = await service.ThumbnailKeyOfAsync(sharedOld[0]);
        var alone = await service.ThumbnailKeyOfAsync(aloneOld);
        var cut = DateTimeOffset.UtcNow;
        await Task.Delay(20);
        var recent = await service.Client.UploadAsync(TestImages.Path(SmallPicture));
        await service.WaitUntilAllSucceededAsync([recent]);
        var expected = await service.DownloadAsync(recent);
        var retention = TimeSpan.FromDays(7); // the default

        var first = await service.SweepAsync(cut + retention);

        Assert.That(first.ExpiredTasks, Is.EqualTo(3));
        Assert.That((await service.Client.GetStatusAsync(sharedOld[0])).Status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await service.ThumbnailBlobsAsync()).Select(blob => blob.Key), Is.EqualTo(new[] { shared }),
            $"{alone} went with its only user; the shared copy stays for the task that has not expired");
        Assert.That(await service.DownloadAsync(recent), Is.EqualTo(expected));

        var second = await service.SweepAsync(DateTimeOffset.UtcNow + retention + TimeSpan.FromMinutes(1));

        Assert.That(second.ExpiredTasks, Is.EqualTo(1));
        Assert.That(await service.ThumbnailBlobsAsync(), Is.Empty, "the shared copy went with its last user");
    }

    [Test]
    public async Task The_orphan_sweep_does_not_remove_a_thumbnail_that_a_new_task_starts_to_use_meanwhile()
    {
        var gates = new Gates();
        var service = await StartAsync(new() { ["ThumbnailApi:ReuseIdenticalUploads"] = "false" }, gates.Install);
        // An orphan: the bytes of a thumbnail whose last user is gone (as a worker fenced out after storing leaves it).
        var first = await service.Client.UploadAsync(TestImages.Path(SmallPicture));
        await service.WaitUntilAllSucceededAsync([first]);
        var key = await service.ThumbnailKeyOfAsync(first);
        var expected = await service.DownloadAsync(first);
        (await service.Client.DeleteAsync(first)).Dispose();
        await service.Blobs.PutAsync(key, new MemoryStream(expected), expected.Length);

        // The sweep (an hour later, so the orphan is past its grace period) has found the blob unused and is about to delete it...
        gates.Deletes.Arm(key);
        var sweep = service.SweepAsync(DateTimeOffset.UtcNow + RetentionSweep.OrphanGracePeriod + TimeSpan.FromMinutes(1));
        await gates.Deletes.EnteredAsync();
        // ...when an identical task is uploaded, refers to the key and stores its bytes.
        // (Without a lock shared with the worker it finishes in this time; with one, it waits for the sweep.)
        var next = Task.Run(async () =>
        {
            var id = await service.Client.UploadAsync(TestImages.Path(SmallPicture));
            await service.WaitUntilAllFinishedAsync([id]);
            return id;
        });
        await Task.WhenAny(next, Task.Delay(TimeSpan.FromSeconds(3)));
        gates.Deletes.Open();
        await sweep;

        var id = await next;
        await service.WaitUntilAllSucceededAsync([id]);
        Assert.That(await service.DownloadAsync(id), Is.EqualTo(expected), "the new task's thumbnail survived the sweep");
        await service.AssertNothingUnreferencedAfterASweepAsync([id]);
    }

    // ---- the service under test ------------------------------------------------------------------

    private async Task<Service> StartAsync(Dictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        if (blobs == "s3")
        {
            var s3 = Requires.S3();
            var bucket = await s3.CreateBucketAsync();
            foreach (var (name, value) in s3.ServiceSettings(bucket))
            {
                settings[name] = value;
            }
        }

        ThumbnailApiFactory factory;
        if (database == "postgres")
        {
            var instances = await SharedDatabaseInstances.CreateAsync();
            _cleanUp.Add(instances.DisposeAsync);
            factory = instances.Start(settings, services);
        }
        else
        {
            factory = new ThumbnailApiFactory(settings, services);
            _cleanUp.Add(factory.DisposeAsync);
        }

        var client = factory.CreateApiClient();
        _cleanUp.Add(() =>
        {
            client.Dispose();
            return ValueTask.CompletedTask;
        });
        return new Service(factory, client);
    }

    private sealed class Service(ThumbnailApiFactory factory, ApiClient client)
    {
        public ApiClient Client { get; } = client;

        public IBlobStore Blobs { get; } = factory.Services.GetRequiredService<IBlobStore>();

        private ITaskStore Store { get; } = factory.Services.GetRequiredService<ITaskStore>();

        /// <summary>Every blob under thumbnails/, half-written ones included.</summary>
        public async Task<List<BlobInfo>> ThumbnailBlobsAsync() => await Blobs.ListAsync(BlobKeys.Thumbnails).ToListAsync();

        public async Task<bool> BlobExistsAsync(string key)
        {
            await using var content = await Blobs.OpenReadAsync(key);
            return content is not null;
        }

        public async Task<string> ThumbnailKeyOfAsync(string id) =>
            (await Store.FindAsync(id))?.ThumbnailKey ?? throw new AssertionException($"Task {id} refers to no thumbnail.");

        public async Task<string?> StatusOfAsync(string id) => (await Client.GetStatusAsync(id)).Body.GetProperty("task_status").GetString();

        public async Task<byte[]> DownloadAsync(string id)
        {
            using var response = await Client.Http.GetAsync($"{ApiClient.Api}/{id}/thumbnail");
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"the thumbnail of {id}: {System.Text.Encoding.UTF8.GetString(bytes.Take(300).ToArray())}");
            return bytes;
        }

        /// <summary>Polls the batch status (100 ids a call) until no task is PENDING; fails at the deadline.</summary>
        public async Task<List<JsonElement>> WaitUntilAllFinishedAsync(IReadOnlyList<string> ids, TimeSpan? timeout = null)
        {
            var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
            while (true)
            {
                var statuses = new List<JsonElement>();
                foreach (var chunk in ids.Chunk(100))
                {
                    using var response = await Client.Http.GetAsync($"{ApiClient.Api}/?ids={string.Join(',', chunk)}");
                    var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
                    Assert.That(body.GetProperty("not_found").GetArrayLength(), Is.Zero, body.ToString());
                    statuses.AddRange(body.GetProperty("tasks").EnumerateArray());
                }

                var pending = statuses.Count(status => status.GetProperty("task_status").GetString() == "PENDING");
                if (pending == 0)
                {
                    return statuses;
                }

                if (DateTime.UtcNow > deadline)
                {
                    Assert.Fail($"{pending} of {ids.Count} tasks still PENDING after the deadline.");
                }

                await Task.Delay(100);
            }
        }

        public async Task WaitUntilAllSucceededAsync(IReadOnlyList<string> ids)
        {
            var statuses = await WaitUntilAllFinishedAsync(ids);
            Assert.That(statuses.Where(status => status.GetProperty("task_status").GetString() != "SUCCESS").Select(status => status.ToString()), Is.Empty);
        }

        /// <summary>
        /// One retention pass as it would run at <paramref name="now"/>, on the service's own store and blobs
        /// (again while the service's own start-up sweep holds the sweeper's turn).
        /// </summary>
        public async Task<SweepResult> SweepAsync(DateTimeOffset now)
        {
            var sweep = new RetentionSweep(Store, factory.Services.GetRequiredService<TaskFiles>(), factory.Services.GetRequiredService<RetentionPolicy>(),
                new FakeTimeProvider(now));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (true)
            {
                if (await sweep.RunAsync(CancellationToken.None) is { } result)
                {
                    return result;
                }

                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the sweeper's turn was free in time");
                await Task.Delay(50);
            }
        }

        /// <summary>
        /// After an orphan sweep (two hours on, so every blob is past its grace period, and before any task
        /// expires): every remaining thumbnail blob is referenced by a task, and each of <paramref name="alive"/> downloads.
        /// </summary>
        public async Task AssertNothingUnreferencedAfterASweepAsync(IReadOnlyList<string> alive)
        {
            await SweepAsync(DateTimeOffset.UtcNow + TimeSpan.FromHours(2));
            var keys = (await ThumbnailBlobsAsync()).Select(blob => blob.Key).ToList();
            var inUse = keys.Count == 0 ? [] : await Store.ThumbnailKeysInUseAsync(keys);
            Assert.That(keys.Where(key => !inUse.Contains(key)), Is.Empty, "no blob left that no task refers to");
            foreach (var id in alive)
            {
                Assert.That(await DownloadAsync(id), Is.Not.Empty);
            }
        }
    }

    // ---- gates -----------------------------------------------------------------------------------

    /// <summary>Holds one call for one key until the test opens it; armed again for each use.</summary>
    public sealed class KeyGate
    {
        private string? _key;
        private TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Arm(string key)
        {
            _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
            _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _key, key);
        }

        /// <summary>Called by the gated code: the first call for the armed key waits here.</summary>
        public async Task PassAsync(string key)
        {
            if (Interlocked.CompareExchange(ref _key, null, key) == key)
            {
                var open = _open.Task;
                _entered.SetResult();
                await open.WaitAsync(TimeSpan.FromSeconds(60));
            }
        }

        public async Task EnteredAsync()
        {
            if (await Task.WhenAny(_entered.Task, Task.Delay(TimeSpan.FromSeconds(30))) != _entered.Task)
            {
                Assert.Fail("Nothing reached the gate in time.");
            }
        }

        public void Open() => _open.TrySetResult();
    }

    /// <summary>Gates in the service's blob store (puts, deletes) and task store (references to a thumbnail).</summary>
    private sealed class Gates
    {
        public KeyGate Puts { get; } = new();

        public KeyGate Deletes { get; } = new();

        public KeyGate References { get; } = new();

        public void Install(IServiceCollection services)
        {
            Decorate<IBlobStore>(services, inner => new GatedBlobStore(inner, this));
            Decorate<ITaskStore>(services, inner => GatedTaskStore.Wrap(inner, References));
        }

        private static void Decorate<T>(IServiceCollection services, Func<T, T> wrap)
            where T : class
        {
            var registered = services.Last(descriptor => descriptor.ServiceType == typeof(T));
            services.Remove(registered);
            services.AddSingleton(provider => wrap((T)registered.ImplementationFactory!(provider)));
        }
    }

    private sealed class GatedBlobStore(IBlobStore inner, Gates gates) : IBlobStore
    {
        public async Task PutAsync(string key, Stream content, long length, CancellationToken cancellation = default)
        {
            await gates.Puts.PassAsync(key); // armed for a key, the first of the existence check and the put waits
            await inner.PutAsync(key, content, length, cancellation);
        }

        public async Task DeleteAsync(string key, CancellationToken cancellation = default)
        {
            await gates.Deletes.PassAsync(key);
            await inner.DeleteAsync(key, cancellation);
        }

        /// <summary>A worker looks whether the blob is there just before it would store it: the gate for "about to store".</summary>
        public async Task<long?> LengthAsync(string key, CancellationToken cancellation = default)
        {
            await gates.Puts.PassAsync(key);
            return await inner.LengthAsync(key, cancellation);
        }

        public Task<BlobContent?> OpenReadAsync(string key, CancellationToken cancellation = default) => inner.OpenReadAsync(key, cancellation);

        public Task<Stream> OpenSeekableAsync(string key, CancellationToken cancellation = default) => inner.OpenSeekableAsync(key, cancellation);

        public IAsyncEnumerable<BlobInfo> ListAsync(string prefix, CancellationToken cancellation = default) => inner.ListAsync(prefix, cancellation);

        public string? LocalPath(string key) => inner.LocalPath(key);

        public Task<BlobStoreHealth> CheckHealthAsync(CancellationToken cancellation = default) => inner.CheckHealthAsync(cancellation);
    }

    /// <summary>The service's task store, with <see cref="ITaskStore.ReferenceThumbnailAsync"/> passing a gate first.</summary>
    public class GatedTaskStore : DispatchProxy
    {
        private ITaskStore _inner = null!;
        private KeyGate _gate = null!;

        internal static ITaskStore Wrap(ITaskStore inner, KeyGate gate)
        {
            var proxy = Create<ITaskStore, GatedTaskStore>();
            var gated = (GatedTaskStore)(object)proxy;
            gated._inner = inner;
            gated._gate = gate;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            if (method!.Name == nameof(ITaskStore.ReferenceThumbnailAsync))
            {
                return ReferenceAsync(method, args!);
            }

            try
            {
                return method.Invoke(_inner, args);
            }
            catch (TargetInvocationException wrapped) when (wrapped.InnerException is { } problem)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(problem);
                throw;
            }
        }

        private async Task<bool> ReferenceAsync(MethodInfo method, object?[] args)
        {
            await _gate.PassAsync((string)args[2]!);
            return await (Task<bool>)method.Invoke(_inner, args)!;
        }
    }
}

using System.Net;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ThumbnailApi.Persistence;
using ThumbnailApi.Processing;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>Finished tasks and their files go after the retention age; files no task needs go too. Time is a fake clock.</summary>
[TestFixture]
public sealed class RetentionTests
{
    private TempDataFolder _folder = null!;
    private SqliteDatabase _database = null!;
    private TaskFiles _files = null!;
    private FakeTimeProvider _clock = null!;

    [SetUp]
    public void CreateDataFolder()
    {
        _folder = new TempDataFolder();
        _database = new SqliteDatabase(Path.Combine(_folder.Path, "thumbnails.db"));
        _database.Migrate();
        _files = new TaskFiles(new ThumbnailApi.Blobs.LocalBlobStore(_folder.Path), _folder.Path);
        _clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
    }

    [TearDown]
    public void DeleteDataFolder() => _folder.Dispose();

    private string Uploads => Path.Combine(_folder.Path, "uploads");

    private string Thumbnails => Path.Combine(_folder.Path, "thumbnails");

    [Test]
    public void Finished_tasks_older_than_the_retention_age_are_removed_with_their_files_and_the_others_stay()
    {
        Seed(TaskState.Succeeded, completedDaysAgo: 8, thumbnail: "png");
        Seed(TaskState.Failed, completedDaysAgo: 7.01);
        var recent = Seed(TaskState.Succeeded, completedDaysAgo: 6.9, thumbnail: "jpg");
        var pending = Seed(TaskState.Queued, completedDaysAgo: null, upload: true);

        var result = Sweep(retentionDays: 7);

        Assert.That(result.ExpiredTasks, Is.EqualTo(2));
        Assert.That(RemainingIds(), Is.EquivalentTo(new[] { recent, pending }));
        Assert.That(Directory.GetFiles(Thumbnails).Select(Path.GetFileName), Is.EqualTo(new[] { $"{recent}.jpg" }));
        Assert.That(Directory.GetFiles(Uploads).Select(Path.GetFileName), Is.EqualTo(new[] { pending }));
    }

    [Test]
    public void One_sweep_removes_more_expired_tasks_than_fit_in_one_batch()
    {
        var count = RetentionSweep.BatchSize * 2 + 50;
        for (var i = 0; i < count; i++)
        {
            Seed(TaskState.Succeeded, completedDaysAgo: 30, thumbnail: "png");
        }

        var kept = Seed(TaskState.Succeeded, completedDaysAgo: 1, thumbnail: "png");

        Assert.That(Sweep(retentionDays: 7).ExpiredTasks, Is.EqualTo(count));
        Assert.That(RemainingIds(), Is.EqualTo(new[] { kept }));
        Assert.That(Directory.GetFiles(Thumbnails), Has.Length.EqualTo(1));
    }

    [Test]
    public void Retention_days_0_keeps_finished_tasks_forever()
    {
        var ancient = Seed(TaskState.Succeeded, completedDaysAgo: 3650, thumbnail: "png");

        Assert.That(Sweep(retentionDays: 0).ExpiredTasks, Is.Zero);
        Assert.That(RemainingIds(), Is.EqualTo(new[] { ancient }));
        Assert.That(new RetentionPolicy(Options(0)).ExpiresAt(new SqliteTaskStore(_database, _clock, new TaskEvents()).FindAsync(ancient).GetAwaiter().GetResult()!), Is.Null);
    }

    [Test]
    public void Files_no_task_needs_are_removed_once_untouched_for_the_grace_period_and_files_in_use_are_kept()
    {
        var queued = Seed(TaskState.Queued, completedDaysAgo: null, upload: true);
        var processing = Seed(TaskState.Processing, completedDaysAgo: null, upload: true, thumbnail: "png"); // written, not yet committed
        var finished = Seed(TaskState.Succeeded, completedDaysAgo: 1, upload: true, thumbnail: "png"); // the upload outlived a crash
        var noRowUpload = TaskId.New();
        var noRowThumbnail = TaskId.New();
        var streaming = TaskId.New();
        File.WriteAllBytes(Path.Combine(Uploads, noRowUpload), [1]);
        File.WriteAllBytes(Path.Combine(Thumbnails, $"{noRowThumbnail}.webp"), [1]);
        File.WriteAllBytes(Path.Combine(Thumbnails, $"{queued}.png.partial"), [1]);
        File.WriteAllText(Path.Combine(Uploads, "README.txt"), "not a task file");
        _clock.Advance(RetentionSweep.OrphanGracePeriod + TimeSpan.FromMinutes(1));
        // An upload being streamed right now: no row yet, but written to a moment ago.
        File.WriteAllBytes(Path.Combine(Uploads, streaming), [1]);
        File.SetLastWriteTimeUtc(Path.Combine(Uploads, streaming), _clock.GetUtcNow().UtcDateTime);

        var result = Sweep(retentionDays: 7);

        Assert.That(result.OrphanFiles, Is.EqualTo(4));
        Assert.That(Directory.GetFiles(Uploads).Select(Path.GetFileName), Is.EquivalentTo(new[] { queued, processing, streaming, "README.txt" }));
        Assert.That(Directory.GetFiles(Thumbnails).Select(Path.GetFileName), Is.EquivalentTo(new[] { $"{processing}.png", $"{finished}.png" }));
    }

    [Test]
    public void A_file_without_a_task_is_kept_during_the_grace_period()
    {
        var orphan = TaskId.New();
        File.WriteAllBytes(Path.Combine(Uploads, orphan), [1]);
        _clock.Advance(RetentionSweep.OrphanGracePeriod - TimeSpan.FromMinutes(5));

        Assert.That(Sweep(retentionDays: 7).OrphanFiles, Is.Zero);
        Assert.That(File.Exists(Path.Combine(Uploads, orphan)), Is.True);
    }

    [Test]
    public async Task The_status_says_when_a_finished_task_expires_and_null_while_pending_or_when_kept_forever()
    {
        using var factory = new ThumbnailApiFactory();
        using var forever = new ThumbnailApiFactory(new Dictionary<string, string?> { ["ThumbnailApi:RetentionDays"] = "0" });
        using var client = factory.CreateApiClient();
        using var foreverClient = forever.CreateApiClient();

        var finished = await client.WaitUntilFinishedAsync(await client.UploadAsync(TestImages.Path("photo.jpg")));
        var kept = await foreverClient.WaitUntilFinishedAsync(await foreverClient.UploadAsync(TestImages.Path("photo.jpg")));

        Assert.That(finished.GetProperty("expires_at").GetDateTimeOffset(),
            Is.EqualTo(finished.GetProperty("completed_at").GetDateTimeOffset().AddDays(7)));
        Assert.That(kept.GetProperty("expires_at").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.Null));
    }

    [Test]
    public async Task The_background_sweep_removes_an_expired_task_and_its_thumbnail()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var factory = new ThumbnailApiFactory(
            new Dictionary<string, string?> { ["ThumbnailApi:RetentionDays"] = "1", ["ThumbnailApi:RetentionSweepMinutes"] = "5" },
            s => s.AddSingleton<TimeProvider>(clock));
        using var client = factory.CreateApiClient();
        var id = await client.UploadAsync(TestImages.Path("photo.jpg"));
        await client.WaitUntilFinishedAsync(id);
        var (_, finished) = await client.GetStatusAsync(id);
        Assert.That(finished.GetProperty("expires_at").GetDateTimeOffset(), Is.EqualTo(clock.GetUtcNow().AddDays(1)).Within(TimeSpan.FromSeconds(1)));

        clock.Advance(TimeSpan.FromDays(1));
        // Each step is one sweep interval, so the periodic timer fires whenever it was started.
        var gone = await Eventually.TrueAsync(() =>
        {
            clock.Advance(TimeSpan.FromMinutes(5));
            return Directory.GetFiles(factory.ThumbnailsPath).Length == 0;
        });

        Assert.That(gone, Is.True, "the thumbnail was removed");
        Assert.That((await client.GetStatusAsync(id)).Status, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task At_start_up_half_written_thumbnails_older_than_a_minute_go_and_one_being_written_stays()
    {
        var store = new SqliteTaskStore(_database, _clock, new TaskEvents());
        var dead = Path.Combine(Thumbnails, $"{new string('a', 64)}.jpg.partial");
        var live = Path.Combine(Thumbnails, $"{new string('b', 64)}.png.partial");
        File.WriteAllBytes(dead, [1]);
        File.SetLastWriteTimeUtc(dead, _clock.GetUtcNow().UtcDateTime - RetentionSweep.PartialGracePeriod - TimeSpan.FromSeconds(1));
        File.WriteAllBytes(live, [1]);
        File.SetLastWriteTimeUtc(live, _clock.GetUtcNow().UtcDateTime);

        var removed = await new RetentionSweep(store, _files, new RetentionPolicy(Options(7)), _clock).DeleteAbandonedPartialThumbnailsAsync();

        Assert.That(removed, Is.EqualTo(1));
        Assert.That(Directory.GetFiles(Thumbnails), Is.EqualTo(new[] { live }));
    }

    [Test]
    public void Scratch_files_left_by_a_killed_process_go_once_untouched_for_the_grace_period_and_files_in_use_stay()
    {
        var store = new SqliteTaskStore(_database, _clock, new TaskEvents());
        var dead = Path.Combine(_files.Scratch, $"{new string('c', 32)}.download");
        var live = Path.Combine(_files.Scratch, $"{new string('d', 32)}.upload");
        File.WriteAllBytes(dead, [1]);
        File.SetLastWriteTimeUtc(dead, _clock.GetUtcNow().UtcDateTime - RetentionSweep.OrphanGracePeriod - TimeSpan.FromSeconds(1));
        File.WriteAllBytes(live, [1]);
        File.SetLastWriteTimeUtc(live, _clock.GetUtcNow().UtcDateTime - RetentionSweep.OrphanGracePeriod + TimeSpan.FromMinutes(1));

        var removed = new RetentionSweep(store, _files, new RetentionPolicy(Options(7)), _clock).DeleteStaleScratchFiles();

        Assert.That(removed, Is.EqualTo(1));
        Assert.That(Directory.GetFiles(_files.Scratch), Is.EqualTo(new[] { live }));
    }

    private SweepResult Sweep(int retentionDays)
    {
        var options = Options(retentionDays);
        return new RetentionSweep(new SqliteTaskStore(_database, _clock, new TaskEvents()), _files, new RetentionPolicy(options), _clock).RunAsync(CancellationToken.None).GetAwaiter().GetResult()!;
    }

    private static IOptions<ServiceOptions> Options(int retentionDays) =>
        Microsoft.Extensions.Options.Options.Create(new ServiceOptions { RetentionDays = retentionDays });

    /// <summary>A task row in the given state, finished the given days before the fake clock's now, with the files asked for.</summary>
    private string Seed(string state, double? completedDaysAgo, bool upload = false, string? thumbnail = null)
    {
        var id = TaskId.New();
        new SqliteTaskStore(_database, _clock, new TaskEvents()).InsertQueuedAsync(new TaskRecord
        {
            Id = id, FileName = "a.png", InputFormat = "image/png", InputBytes = 1, InputWidth = 1, InputHeight = 1,
            Width = 100, Height = 100, Fit = "cover", Format = "auto", CreatedAt = _clock.GetUtcNow().ToUnixTimeMilliseconds(),
        }).GetAwaiter().GetResult();
        var completedAt = completedDaysAgo is { } days ? _clock.GetUtcNow().AddDays(-days).ToUnixTimeMilliseconds() : (long?)null;
        using (var connection = _database.Open())
        {
            connection.Execute("UPDATE tasks SET state = @state, completed_at = @completedAt WHERE id = @id", new { id, state, completedAt });
        }

        if (upload)
        {
            File.WriteAllBytes(Path.Combine(Uploads, id), [1]);
        }

        if (thumbnail is not null)
        {
            File.WriteAllBytes(Path.Combine(Thumbnails, $"{id}.{thumbnail}"), [1]);
        }

        return id;
    }

    private List<string> RemainingIds()
    {
        using var connection = _database.Open();
        return connection.Query<string>("SELECT id FROM tasks").AsList();
    }
}

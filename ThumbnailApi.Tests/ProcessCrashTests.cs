using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// The service as a real process (the built ThumbnailApi.dll, on a free port and its own data
/// folder), killed in the middle of its work and started again on the same folder. What an
/// in-process host cannot show: a SIGKILL loses nothing accepted, and a file that crashes the
/// process is given up after three attempts instead of crash-looping the service.
/// </summary>
[TestFixture]
public sealed class ProcessCrashTests
{
    private static readonly string ServiceDll = Path.Combine(AppContext.BaseDirectory, "ThumbnailApi.dll");

    [Test]
    public void The_crash_hook_is_off_unless_configured()
    {
        using var factory = new ThumbnailApiFactory();

        Assert.That(factory.Services.GetRequiredService<IThumbnailer>(), Is.TypeOf<ThumbnailPipeline>());
    }

    [Test]
    public async Task A_task_that_crashes_the_process_is_tried_three_times_then_failed_processing_crashed_and_the_service_runs_on()
    {
        using var folder = new TempDataFolder();
        var settings = new Dictionary<string, string>
        {
            ["ThumbnailApi:TestHooks:CrashOnInputSha256"] = Convert.ToHexStringLower(SHA256.HashData(TestImages.Bytes("photo.jpg"))),
            ["ThumbnailApi:WorkerCount"] = "1",
        };

        using (var first = await ServiceProcess.StartAsync(ServiceDll, folder.Path, settings))
        using (var client = new ApiClient(new HttpClient { BaseAddress = first.BaseAddress }))
        {
            // The worker may take the task, and crash, before the 202 is on its way: the row is there either way.
            try
            {
                await client.PostFileAsync(TestImages.Path("photo.jpg"));
            }
            catch (HttpRequestException)
            {
            }

            Assert.That(await first.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.True, "attempt 1 crashes the process");
        }

        var id = TaskRow(folder, "id");
        Assert.That(TaskRow(folder, "attempts"), Is.EqualTo(1L));
        for (var attempt = 2; attempt <= 3; attempt++)
        {
            using var restarted = await ServiceProcess.StartAsync(ServiceDll, folder.Path, settings, waitUntilListening: false);
            Assert.That(await restarted.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.True, $"attempt {attempt} crashes it again");
            Assert.That(TaskRow(folder, "attempts"), Is.EqualTo((long)attempt));
        }

        using var last = await ServiceProcess.StartAsync(ServiceDll, folder.Path, settings);
        using var lastClient = new ApiClient(new HttpClient { BaseAddress = last.BaseAddress });
        var status = await lastClient.WaitUntilFinishedAsync((string)id);

        Assert.That(status.GetProperty("task_status").GetString(), Is.EqualTo("FAILED"));
        Assert.That(status.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("processing_crashed"));
        var other = await lastClient.UploadAsync(TestImages.Path("alpha.png"));
        Assert.That((await lastClient.WaitUntilFinishedAsync(other)).GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
        Assert.That(last.HasExited, Is.False, "no crash loop");
    }

    [Test]
    public async Task After_a_sigkill_in_the_middle_of_a_load_every_accepted_upload_finishes_and_every_thumbnail_is_whole()
    {
        using var folder = new TempDataFolder();
        var settings = new Dictionary<string, string> { ["ThumbnailApi:WorkerCount"] = "1" };
        var files = new[] { "photo.tif", "photo.bmp", "photo.jpg", "alpha.png", "photo.gif", "photo.webp" };
        var accepted = new List<string>();

        using (var service = await ServiceProcess.StartAsync(ServiceDll, folder.Path, settings))
        using (var client = new ApiClient(new HttpClient { BaseAddress = service.BaseAddress }))
        {
            for (var i = 0; i < 40; i++)
            {
                accepted.Add(await client.UploadAsync(TestImages.Path(files[i % files.Length])));
            }

            service.Kill();
        }

        using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(folder.Path, "thumbnails.db")};Pooling=False"))
        {
            db.Open();
            using var count = db.CreateCommand();
            count.CommandText = "SELECT COUNT(*) FROM tasks WHERE state IN ('queued', 'processing')";
            TestContext.Out.WriteLine($"unfinished at the SIGKILL: {count.ExecuteScalar()} of {accepted.Count}");
        }

        using var restarted = await ServiceProcess.StartAsync(ServiceDll, folder.Path, settings);
        using var again = new ApiClient(new HttpClient { BaseAddress = restarted.BaseAddress });
        foreach (var id in accepted)
        {
            var status = await again.WaitUntilFinishedAsync(id, TimeSpan.FromSeconds(60));
            Assert.That(status.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"), status.ToString());
            using var thumbnail = await again.Http.GetAsync($"{ApiClient.Api}/{id}/thumbnail");
            var bytes = await thumbnail.Content.ReadAsByteArrayAsync();
            Assert.That(thumbnail.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(bytes, Has.Length.EqualTo(status.GetProperty("image").GetProperty("size_bytes").GetInt64()));
            using var decoded = SkiaSharp.SKBitmap.Decode(bytes);
            Assert.That(decoded, Is.Not.Null, "the thumbnail decodes: it is whole");
        }

        Assert.That(Directory.GetFiles(Path.Combine(folder.Path, "thumbnails"), "*.partial"), Is.Empty);
    }

    /// <summary>A column of the only task in the folder's database, read while no service runs.</summary>
    private static object TaskRow(TempDataFolder folder, string column)
    {
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(folder.Path, "thumbnails.db")};Pooling=False");
        db.Open();
        using var query = db.CreateCommand();
        query.CommandText = $"SELECT {column} FROM tasks";
        return query.ExecuteScalar()!;
    }
}

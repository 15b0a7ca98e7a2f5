using System.Net;
using Dapper;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// An unwritable or missing data folder: a clear 503 JSON, no row and no file for a refused upload,
/// no crash and no crash loop, and work that resumes by itself when storage is back.
/// (A real full disk, on a small tmpfs, is in tools/disk-full.sh.)
/// </summary>
[TestFixture]
public sealed class StorageFailureTests
{
    private static readonly Dictionary<string, string?> QuickRetry = new() { ["ThumbnailApi:RetryAfterSeconds"] = "1" };

    [Test]
    public async Task An_upload_that_cannot_be_stored_is_a_503_storage_unavailable_that_names_no_path_and_keeps_nothing()
    {
        using var factory = new ThumbnailApiFactory(QuickRetry);
        using var client = factory.CreateApiClient();

        HttpResponseMessage refused;
        using (new BlockedFolder(factory.UploadsPath))
        {
            refused = await client.PostFileAsync(TestImages.Path("photo.jpg"));
        }

        var body = await ErrorResponseTests.AssertErrorAsync(refused, HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        Assert.That(refused.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(body.ToString(), Does.Not.Contain(factory.DataPath));
        Assert.That(body.ToString(), Does.Not.Contain("uploads"));
        using (var db = factory.OpenDatabase())
        {
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM tasks"), Is.Zero);
        }

        var id = await client.UploadAsync(TestImages.Path("photo.jpg"));
        Assert.That((await client.WaitUntilFinishedAsync(id)).GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"),
            "the service goes on once the folder is back");
    }

    [Test]
    public async Task A_thumbnail_that_cannot_be_written_sends_its_task_back_to_the_queue_until_storage_works()
    {
        using var service = new GatedService(QuickRetry);
        var (gate, factory, client) = (service.Gate, service.Factory, service.Client);
        gate.Open();

        string id;
        using (new BlockedFolder(factory.ThumbnailsPath))
        {
            id = await client.UploadAsync(TestImages.Path("photo.jpg"));
            await gate.WaitUntilHeldAsync();
            await gate.WaitUntilHeldAsync(); // made twice: the first result could not be saved, and the task came back

            var (_, status) = await client.GetStatusAsync(id);
            Assert.That(status.GetProperty("task_status").GetString(), Is.EqualTo("PENDING"));
        }

        var finished = await client.WaitUntilFinishedAsync(id);

        Assert.That(finished.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"));
        using var db = factory.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT attempts FROM tasks WHERE id = @id", new { id }), Is.EqualTo(1),
            "attempts that storage stopped are not counted against the image");
        Assert.That(Directory.GetFiles(factory.ThumbnailsPath).Select(Path.GetFileName), Has.Exactly(1).Items.And.All.Match("^[0-9a-f]{64}\\.jpg$"),
            "no half-written file is left");
    }

    [Test]
    public async Task A_service_started_on_an_unusable_data_folder_runs_refuses_uploads_and_recovers_when_the_folder_is_back()
    {
        using var folder = new TempDataFolder();
        var blocked = new BlockedFolder(folder.Path);
        using var factory = new ThumbnailApiFactory(QuickRetry, dataFolder: folder);
        using var client = factory.CreateApiClient(); // starts the host: it must not throw

        using (var refused = await client.PostFileAsync(TestImages.Path("photo.jpg")))
        {
            await ErrorResponseTests.AssertErrorAsync(refused, HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        }

        using (var status = await client.Http.GetAsync($"{ApiClient.Api}/{new string('a', 32)}"))
        {
            var body = await ErrorResponseTests.AssertErrorAsync(status, HttpStatusCode.ServiceUnavailable, "storage_unavailable");
            Assert.That(body.ToString(), Does.Not.Contain(folder.Path));
        }

        using (var readiness = await client.Http.GetAsync("/readyz"))
        {
            var detail = await readiness.Content.ReadAsStringAsync();
            Assert.That(readiness.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), detail);
            Assert.That(detail, Does.Contain("recovery").And.Not.Contain(folder.Path));
        }

        blocked.Dispose();
        Assert.That(await Eventually.TrueAsync(async () =>
        {
            using var retry = await client.PostFileAsync(TestImages.Path("photo.jpg"));
            return retry.StatusCode == HttpStatusCode.Accepted;
        }, TimeSpan.FromSeconds(30)), Is.True, "uploads are accepted again once recovery has run");
    }
}

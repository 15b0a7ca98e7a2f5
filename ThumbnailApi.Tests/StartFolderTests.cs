using System.Net;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// The service started from a folder other than its own (<c>cd /srv &amp;&amp; dotnet /opt/thumbnailapi/ThumbnailApi.dll</c>,
/// as a systemd unit without WorkingDirectory does): appsettings.json and the upload page are found
/// next to the app, and the data folder is made relative to the working folder, as documented.
/// </summary>
[TestFixture]
public sealed class StartFolderTests
{
    private static readonly string ServiceDll = Path.Combine(AppContext.BaseDirectory, "ThumbnailApi.dll");

    [Test]
    public async Task Started_from_another_folder_it_serves_the_upload_page_honours_appsettings_and_keeps_its_data_in_the_working_folder()
    {
        using var workingFolder = new TempDataFolder();
        using var service = await ServiceProcess.StartAsync(ServiceDll, "data", workingDirectory: workingFolder.Path);
        using var http = new HttpClient { BaseAddress = service.BaseAddress };

        using var page = await http.GetAsync("/?secret-query=1");
        var html = await page.Content.ReadAsStringAsync();

        Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK), service.RecentOutput);
        Assert.That(page.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
        Assert.That(html, Does.Contain("<script src=\"app.js\""), "the upload page");
        Assert.That(await Eventually.TrueAsync(() => service.RecentOutput.Contains("HTTP GET /index.html (route -) answered 200", StringComparison.Ordinal)),
            Is.True, $"the service's own request line is logged (Default: Information):{Environment.NewLine}{service.RecentOutput}");
        Assert.That(service.RecentOutput, Does.Not.Contain("Microsoft.AspNetCore.Hosting").And.Not.Contain("secret-query"),
            "appsettings.json keeps Microsoft.AspNetCore at Warning: no framework line per request with its query string");
        Assert.That(File.Exists(Path.Combine(workingFolder.Path, "data", "thumbnails.db")), Is.True, "the data folder is relative to the working folder");
        Assert.That(Directory.Exists(Path.Combine(AppContext.BaseDirectory, "data")), Is.False, "and not to the app's folder");
    }
}

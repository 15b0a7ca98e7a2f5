using System.Net;
using System.Text.Json;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// Variants of accepted formats that no decoder here reads get a clean unsupported_format: a 415 at
/// upload when the header shows it, otherwise a FAILED task; never a 500 or a wrong thumbnail.
/// </summary>
[TestFixture]
public sealed class UnsupportedVariantTests
{
    private ThumbnailApiFactory _factory = null!;
    private ApiClient _client = null!;

    private static IEnumerable<string> Unsupported =>
        Corpus.OfKind("reject").Where(e => e.Codes.SequenceEqual(["unsupported_format"]) && !e.File.StartsWith("disguised/")).Select(e => e.File);

    [OneTimeSetUp]
    public void StartService()
    {
        _factory = new ThumbnailApiFactory();
        _client = _factory.CreateApiClient();
    }

    [OneTimeTearDown]
    public void StopService()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [TestCaseSource(nameof(Unsupported))]
    public async Task An_unsupported_variant_is_refused_as_unsupported_format(string file)
    {
        using var response = await _client.PostFileAsync(TestImages.Path(file));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            var status = await _client.WaitUntilFinishedAsync(body.GetProperty("task_id").GetString()!);
            Assert.That(status.GetProperty("task_status").GetString(), Is.EqualTo("FAILED"), status.ToString());
            Assert.That(status.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("unsupported_format"));
            return;
        }

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.UnsupportedMediaType), body.ToString());
        Assert.That(body.GetProperty("code").GetString(), Is.EqualTo("unsupported_format"));
    }
}

using System.Net;
using System.Text.Json;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// Variants of accepted formats that no decoder here reads get a clean unsupported_format: a 415 at
/// upload when the header shows it, otherwise a FAILED task; never a 500 or a wrong thumbnail.
/// </summary>
[TestFixture]
public sealed class UnsupportedVariantTests : OneServiceFixture
{
    private static IEnumerable<string> Unsupported =>
        Corpus.OfKind("reject").Where(e => e.Codes.SequenceEqual(["unsupported_format"]) && !e.File.StartsWith("disguised/")).Select(e => e.File);

    [TestCaseSource(nameof(Unsupported))]
    public async Task An_unsupported_variant_is_refused_as_unsupported_format(string file)
    {
        using var response = await Client.PostFileAsync(TestImages.Path(file));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            var status = await Client.WaitUntilFinishedAsync(body.GetProperty("task_id").GetString()!);
            Assert.That(status.GetProperty("task_status").GetString(), Is.EqualTo("FAILED"), status.ToString());
            Assert.That(status.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("unsupported_format"));
            return;
        }

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.UnsupportedMediaType), body.ToString());
        Assert.That(body.GetProperty("code").GetString(), Is.EqualTo("unsupported_format"));
    }
}

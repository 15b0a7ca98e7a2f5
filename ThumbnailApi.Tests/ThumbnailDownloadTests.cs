using System.Net;
using System.Net.Http.Headers;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

[TestFixture]
public sealed class ThumbnailDownloadTests : OneServiceFixture
{
    private string _taskId = "";

    [OneTimeSetUp]
    public async Task MakeOneThumbnail()
    {
        _taskId = await Client.UploadAsync(TestImages.Path("photo.jpg"));
        await Client.WaitUntilFinishedAsync(_taskId);
    }

    [Test]
    public async Task The_thumbnail_is_served_with_its_type_a_strong_etag_and_a_long_immutable_cache_lifetime()
    {
        using var response = await Client.Http.GetAsync($"{ApiClient.Api}/{_taskId}/thumbnail");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("image/jpeg"));
        Assert.That(response.Headers.ETag, Is.Not.Null);
        Assert.That(response.Headers.ETag!.IsWeak, Is.False);
        Assert.That(response.Headers.CacheControl?.ToString(), Is.EqualTo("public, max-age=31536000, immutable"));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.That(bytes[..3], Is.EqualTo(new byte[] { 0xFF, 0xD8, 0xFF }));
    }

    [Test]
    public async Task A_matching_if_none_match_gets_a_304_without_a_body()
    {
        using var first = await Client.Http.GetAsync($"{ApiClient.Api}/{_taskId}/thumbnail");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{ApiClient.Api}/{_taskId}/thumbnail");
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);

        using var second = await Client.Http.SendAsync(request);

        Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.NotModified));
        Assert.That(await second.Content.ReadAsByteArrayAsync(), Is.Empty);
    }

    [Test]
    public async Task A_different_if_none_match_gets_the_thumbnail()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{ApiClient.Api}/{_taskId}/thumbnail");
        request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"something-else\""));

        using var response = await Client.Http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task The_thumbnail_of_an_unknown_task_is_a_404()
    {
        using var response = await Client.Http.GetAsync($"{ApiClient.Api}/{new string('b', 32)}/thumbnail");

        await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.NotFound, "task_not_found");
    }
}

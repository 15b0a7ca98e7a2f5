using System.Net;
using System.Text.Json;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary><c>GET …/?ids=a,b,c</c>: several statuses in one call, unknown ids reported inside the body.</summary>
[TestFixture]
public sealed class BatchStatusTests : OneServiceFixture
{
    private string _jpeg = null!;
    private string _damaged = null!;

    [OneTimeSetUp]
    public async Task StartServiceWithTwoFinishedTasks()
    {
        _jpeg = await Client.UploadAsync(TestImages.Path("photo.jpg"));
        _damaged = await Client.UploadAsync(TestImages.Path("damaged/truncated.jpg"));
        await Client.WaitUntilFinishedAsync(_jpeg);
        await Client.WaitUntilFinishedAsync(_damaged);
    }

    [Test]
    public async Task Found_tasks_come_in_the_order_asked_as_the_single_status_and_unknown_ids_are_listed_as_not_found()
    {
        var unknown = new string('0', 32);
        var body = await BatchAsync($"?ids={_damaged},{unknown},not-an-id,{_jpeg}");

        var tasks = body.GetProperty("tasks").EnumerateArray().ToList();
        Assert.That(body.GetProperty("status").GetString(), Is.EqualTo("success"));
        Assert.That(tasks.Select(task => task.GetProperty("task_id").GetString()), Is.EqualTo(new[] { _damaged, _jpeg }));
        Assert.That(tasks.Select(task => task.GetProperty("task_status").GetString()), Is.EqualTo(new[] { "FAILED", "SUCCESS" }));
        Assert.That(tasks[1].ToString(), Is.EqualTo((await Client.GetStatusAsync(_jpeg)).Body.ToString()), "each entry is what GET /{id} answers");
        Assert.That(body.GetProperty("not_found").EnumerateArray().Select(id => id.GetString()), Is.EqualTo(new[] { unknown, "not-an-id" }));
    }

    [Test]
    public async Task An_id_asked_twice_or_in_capitals_is_reported_once()
    {
        var body = await BatchAsync($"?ids={_jpeg},{_jpeg.ToUpperInvariant()}&ids={_jpeg}, {_damaged} ,");

        Assert.That(body.GetProperty("tasks").EnumerateArray().Select(task => task.GetProperty("task_id").GetString()),
            Is.EqualTo(new[] { _jpeg, _damaged }));
        Assert.That(body.GetProperty("not_found").GetArrayLength(), Is.Zero);
    }

    [Test]
    public async Task A_hundred_ids_are_answered()
    {
        var ids = Enumerable.Range(0, 99).Select(i => i.ToString("x32")).Append(_jpeg);

        var body = await BatchAsync($"?ids={string.Join(',', ids)}");

        Assert.That(body.GetProperty("tasks").GetArrayLength(), Is.EqualTo(1));
        Assert.That(body.GetProperty("not_found").GetArrayLength(), Is.EqualTo(99));
    }

    [TestCase("?ids=")]
    [TestCase("?ids=,,")]
    [TestCase("")]
    public async Task No_ids_is_a_400_that_names_the_ids_parameter(string query)
    {
        using var response = await Client.Http.GetAsync($"{ApiClient.Api}/{query}");

        var body = await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_option");
        Assert.That(body.GetProperty("field").GetString(), Is.EqualTo("ids"));
    }

    [Test]
    public async Task More_than_100_ids_is_a_400()
    {
        var ids = Enumerable.Range(0, 101).Select(i => i.ToString("x32"));

        using var response = await Client.Http.GetAsync($"{ApiClient.Api}/?ids={string.Join(',', ids)}");

        var body = await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_option");
        Assert.That(body.GetProperty("message").GetString(), Does.Contain("100"));
    }

    private async Task<JsonElement> BatchAsync(string query)
    {
        using var response = await Client.Http.GetAsync($"{ApiClient.Api}/{query}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}

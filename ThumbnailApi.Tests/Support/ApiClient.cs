using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using SkiaSharp;

namespace ThumbnailApi.Tests.Support;

/// <summary>What a client of the API does: upload, poll with a deadline, download.</summary>
public sealed class ApiClient(HttpClient http) : IDisposable
{
    public const string Api = "/api/v1/thumbnail_generator";

    public HttpClient Http { get; } = http;

    public Task<HttpResponseMessage> PostFileAsync(string path, string? fileName = null, IReadOnlyDictionary<string, string>? fields = null, string query = "") =>
        PostBytesAsync(File.ReadAllBytes(path), fileName ?? System.IO.Path.GetFileName(path), fields, query);

    public Task<HttpResponseMessage> PostBytesAsync(byte[] bytes, string fileName, IReadOnlyDictionary<string, string>? fields = null, string query = "") =>
        Http.PostAsync($"{Api}/{query}", Form(bytes, fileName, fields));

    /// <summary>Uploads a file with an Idempotency-Key header.</summary>
    public Task<HttpResponseMessage> PostWithKeyAsync(string path, string key, IReadOnlyDictionary<string, string>? fields = null) =>
        PostWithKeyAsync(Form(File.ReadAllBytes(path), System.IO.Path.GetFileName(path), fields), key);

    public Task<HttpResponseMessage> PostWithKeyAsync(HttpContent content, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"{Api}/") { Content = content };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return Http.SendAsync(request);
    }

    /// <summary>The multipart body of an upload: the file as the <c>image</c> part, then the option fields.</summary>
    public static MultipartFormDataContent Form(byte[] bytes, string fileName, IReadOnlyDictionary<string, string>? fields = null)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "image", fileName);
        foreach (var (name, value) in fields ?? new Dictionary<string, string>())
        {
            form.Add(new StringContent(value), name);
        }

        return form;
    }

    /// <summary>Uploads and insists on 202; returns the task id.</summary>
    public async Task<string> UploadAsync(string path, IReadOnlyDictionary<string, string>? fields = null)
    {
        using var response = await PostFileAsync(path, fields: fields);
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), body);
        return JsonDocument.Parse(body).RootElement.GetProperty("task_id").GetString()!;
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> GetStatusAsync(string taskId, string? wait = null)
    {
        using var response = await Http.GetAsync(wait is null ? $"{Api}/{taskId}" : $"{Api}/{taskId}?wait={wait}");
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    public Task<HttpResponseMessage> DeleteAsync(string taskId) => Http.DeleteAsync($"{Api}/{taskId}");

    /// <summary>Polls the status until the task leaves PENDING; fails the test at the deadline.</summary>
    public async Task<JsonElement> WaitUntilFinishedAsync(string taskId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var (status, body) = await GetStatusAsync(taskId);
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body.ToString());
            if (body.GetProperty("task_status").GetString() != "PENDING")
            {
                return body;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Task {taskId} still PENDING after the deadline: {body}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Uploads, waits for SUCCESS and returns the decoded thumbnail and its content type.</summary>
    public async Task<(SKBitmap Bitmap, string ContentType)> ThumbnailOfAsync(string path, IReadOnlyDictionary<string, string>? fields = null)
    {
        var id = await UploadAsync(path, fields);
        var status = await WaitUntilFinishedAsync(id);
        Assert.That(status.GetProperty("task_status").GetString(), Is.EqualTo("SUCCESS"), status.ToString());
        using var response = await Http.GetAsync($"{Api}/{id}/thumbnail");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var bitmap = SKBitmap.Decode(bytes) ?? throw new AssertionException("The thumbnail does not decode.");
        return (bitmap, response.Content.Headers.ContentType!.MediaType!);
    }

    public void Dispose() => Http.Dispose();
}

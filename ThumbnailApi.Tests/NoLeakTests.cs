using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>No answer ever carries a stack trace, an exception name, a file path or SQL, whatever went wrong.</summary>
[TestFixture]
public sealed partial class NoLeakTests
{
    private const string Secret = "SELECT * FROM tasks WHERE path = '/var/lib/thumbnails/secret.db'";

    [Test]
    public async Task An_unexpected_error_in_the_worker_reaches_the_client_as_a_plain_internal_error()
    {
        using var factory = new ThumbnailApiFactory(services: s => s.AddSingleton<IThumbnailer>(new ThrowingThumbnailer()));
        using var client = factory.CreateApiClient();

        var id = await client.UploadAsync(TestImages.Path("photo.jpg"));
        await client.WaitUntilFinishedAsync(id);
        using var response = await client.Http.GetAsync($"{ApiClient.Api}/{id}");
        var text = await response.Content.ReadAsStringAsync();

        Assert.That(text, Does.Contain("\"code\":\"internal_error\""));
        AssertLeaksNothing(text, factory.DataPath);
    }

    [Test]
    public async Task An_unexpected_error_in_a_request_is_a_json_500_without_details()
    {
        using var factory = new ThumbnailApiFactory(services: s => s.AddSingleton<IStartupFilter>(new ThrowingRoute()));
        using var client = factory.CreateApiClient();

        using var response = await client.Http.GetAsync(ThrowingRoute.Path);

        var body = await ErrorResponseTests.AssertErrorAsync(response, HttpStatusCode.InternalServerError, "internal_error");
        AssertLeaksNothing(body.ToString(), factory.DataPath);
    }

    [Test]
    public async Task No_answer_to_hostile_or_damaged_files_leaks_anything()
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateApiClient();
        var files = new[] { "hostile", "damaged", "disguised" }
            .SelectMany(folder => Directory.GetFiles(TestImages.Path(folder)))
            .Where(path => !path.EndsWith(".md", StringComparison.Ordinal));

        foreach (var path in files)
        {
            using var response = await client.PostFileAsync(path);
            var text = await response.Content.ReadAsStringAsync();
            AssertLeaksNothing(text, factory.DataPath);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                var id = System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("task_id").GetString()!;
                AssertLeaksNothing((await client.WaitUntilFinishedAsync(id)).ToString(), factory.DataPath);
            }
        }
    }

    private static void AssertLeaksNothing(string text, string dataPath)
    {
        foreach (var secret in new[] { dataPath, "secret.db", ".cs:line" })
        {
            Assert.That(text, Does.Not.Contain(secret));
        }

        Assert.That(Leak().IsMatch(text), Is.False, text);
    }

    /// <summary>A stack frame, an exception type name, SQL, or an absolute path.</summary>
    [GeneratedRegex(@"\bat [A-Z][\w.]+\(|\w+Exception\b|\b(SELECT|INSERT|UPDATE|DELETE)\b.+\b(FROM|INTO|SET)\b|(^|[\s""'])/(tmp|var|home|root|usr|work)/", RegexOptions.IgnoreCase)]
    private static partial Regex Leak();

    private sealed class ThrowingThumbnailer : IThumbnailer
    {
        public EncodedThumbnail Create(Stream input, ThumbnailSpec spec, long reservedBytes = long.MaxValue, CancellationToken cancellation = default) =>
            throw new InvalidOperationException(Secret);
    }

    /// <summary>A test-only route at the end of the pipeline that fails the way a bug would.</summary>
    private sealed class ThrowingRoute : IStartupFilter
    {
        public const string Path = "/test-only/throw";

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Use((context, following) => context.Request.Path == Path ? throw new InvalidOperationException(Secret) : following(context));
        };
    }
}

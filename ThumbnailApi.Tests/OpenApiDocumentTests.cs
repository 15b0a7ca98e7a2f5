using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// /openapi/v1.json describes every endpoint, and changes to it are deliberate: it must equal the
/// committed openapi/v1.json. After changing the API on purpose, rewrite the copy with
/// <c>UPDATE_OPENAPI_SNAPSHOT=1 dotnet test --filter OpenApiDocumentTests</c> and review the diff.
/// </summary>
[TestFixture]
public sealed class OpenApiDocumentTests
{
    private const string SnapshotPath = "openapi/v1.json";
    private const string UpdateVariable = "UPDATE_OPENAPI_SNAPSHOT";

    private ThumbnailApiFactory _factory = null!;
    private HttpClient _client = null!;
    private JsonObject _document = null!;
    private string _documentText = "";

    [OneTimeSetUp]
    public async Task FetchDocument()
    {
        _factory = new ThumbnailApiFactory();
        _client = _factory.CreateClient();
        using var response = await _client.GetAsync("/openapi/v1.json");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        _documentText = Normalized(await response.Content.ReadAsStringAsync());
        _document = JsonNode.Parse(_documentText)!.AsObject();
    }

    [OneTimeTearDown]
    public void StopService()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [Test]
    public void The_document_names_the_address_it_was_fetched_from_so_its_examples_are_whole_commands()
    {
        var servers = _document["servers"]!.AsArray();

        Assert.That(servers.Select(server => server!["url"]!.GetValue<string>()),
            Is.EqualTo(new[] { _client.BaseAddress!.GetLeftPart(UriPartial.Authority) }));
    }

    [Test]
    public void Each_upload_option_is_described_once_as_a_form_field_not_again_as_a_query_parameter()
    {
        var upload = _document["paths"]!["/api/v1/thumbnail_generator"]!["post"]!;
        var fields = upload["requestBody"]!["content"]!["multipart/form-data"]!["schema"]!["properties"]!.AsObject().Select(field => field.Key).ToList();
        var queryParameters = (upload["parameters"]?.AsArray() ?? [])
            .Where(parameter => parameter!["in"]!.GetValue<string>() == "query")
            .Select(parameter => parameter!["name"]!.GetValue<string>());

        Assert.That(fields, Is.SupersetOf(new[] { "image", "width", "height", "fit", "format" }));
        Assert.That(queryParameters, Is.Empty);
    }

    [Test]
    public async Task The_document_equals_the_committed_snapshot()
    {
        var path = RepositoryFiles.Path(SnapshotPath);
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, _documentText);
            Assert.Warn($"{SnapshotPath} was rewritten ({UpdateVariable}=1): review and commit the diff.");
            return;
        }

        Assert.That(File.Exists(path), Is.True, $"{SnapshotPath} is missing: run {UpdateVariable}=1 dotnet test --filter OpenApiDocumentTests");
        var committed = Normalized(await File.ReadAllTextAsync(path));
        var (line, expected, actual) = FirstDifference(committed, _documentText);
        Assert.That(line, Is.Zero,
            $"/openapi/v1.json differs from the committed {SnapshotPath} at line {line}:\n  committed: {expected}\n  served:    {actual}\n"
            + $"If the API changed on purpose, run {UpdateVariable}=1 dotnet test --filter OpenApiDocumentTests and commit the file.");
    }

    [Test]
    public void Every_endpoint_of_the_api_and_the_probes_is_in_the_document()
    {
        var paths = _document["paths"]!.AsObject();
        var mapped = _factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(endpoint => endpoint.RoutePattern.RawText is { } route && (route.StartsWith("/api/", StringComparison.Ordinal) || route is "/healthz" or "/readyz"))
            .SelectMany(endpoint => endpoint.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods
                .Select(method => (Path: endpoint.RoutePattern.RawText!.TrimEnd('/'), Method: method.ToLowerInvariant())))
            .ToList();

        Assert.That(mapped, Has.Count.GreaterThanOrEqualTo(5));
        foreach (var (path, method) in mapped)
        {
            Assert.That(paths[path]?[method], Is.Not.Null, $"{method.ToUpperInvariant()} {path} is not in the OpenAPI document");
        }
    }

    [Test]
    public void Every_operation_has_a_name_a_summary_and_describes_its_error_bodies()
    {
        foreach (var (path, item) in _document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var where = $"{method.ToUpperInvariant()} {path}";
                Assert.That(operation!["operationId"]?.GetValue<string>(), Is.Not.Empty, $"{where}: operationId");
                Assert.That(operation["summary"]?.GetValue<string>(), Is.Not.Empty, $"{where}: summary");
                foreach (var (status, response) in operation["responses"]!.AsObject())
                {
                    if (path.StartsWith("/api/", StringComparison.Ordinal) && status[0] is '4' or '5')
                    {
                        Assert.That(response!["content"]?["application/json"]?["schema"]?["$ref"]?.GetValue<string>(),
                            Is.EqualTo("#/components/schemas/ApiError"), $"{where} {status}: the JSON error body");
                        Assert.That(response["description"]?.GetValue<string>(), Does.Contain("`"), $"{where} {status}: names its error codes");
                    }
                }
            }
        }
    }

    [Test]
    public void The_upload_describes_its_multipart_image_field_and_option_fields()
    {
        var upload = _document["paths"]!["/api/v1/thumbnail_generator"]!["post"]!;
        var form = upload["requestBody"]!["content"]!["multipart/form-data"]!["schema"]!;
        Assert.Multiple(() =>
        {
            Assert.That(form["required"]!.AsArray().Select(name => name!.GetValue<string>()), Is.EqualTo(new[] { "image" }));
            Assert.That(form["properties"]!["image"]!["format"]!.GetValue<string>(), Is.EqualTo("binary"));
            Assert.That(form["properties"]!.AsObject().Select(property => property.Key), Is.EquivalentTo(new[] { "image", "width", "height", "fit", "format", "quality" }));
            Assert.That(form["properties"]!["width"]!["maximum"]!.GetValue<int>(), Is.EqualTo(1024));
            Assert.That(form["properties"]!["fit"]!["enum"]!.AsArray().Select(word => word!.GetValue<string>()),
                Is.EqualTo(new[] { "cover", "contain", "inside", "fill" }));
            Assert.That(upload["responses"]!.AsObject().Select(response => response.Key),
                Is.SupersetOf(new[] { "202", "400", "413", "415", "422", "503" }));
        });
    }

    [Test]
    public void Response_schemas_say_which_fields_may_be_absent_and_which_words_a_status_takes()
    {
        var status = _document["components"]!["schemas"]!["TaskStatusResponse"]!;
        var required = status["required"]!.AsArray().Select(name => name!.GetValue<string>()).ToList();

        Assert.That(required, Does.Contain("task_status").And.Not.Contain("image").And.Not.Contain("error").And.Not.Contain("stage"));
        Assert.That(required, Does.Contain("expires_at"), "written even when null");
        Assert.That(status["properties"]!["expires_at"]!["type"]!.AsArray().Select(type => type!.GetValue<string>()), Does.Contain("null"));
        Assert.That(status["properties"]!["completed_at"]!["type"]!.GetValue<string>(), Is.EqualTo("string"), "left out, never null");
        Assert.That(status["properties"]!["task_status"]!["enum"]!.AsArray().Select(word => word!.GetValue<string>()),
            Is.EqualTo(new[] { "PENDING", "SUCCESS", "FAILED" }));
        Assert.That(_document["components"]!["schemas"]!["ThumbnailInfo"]!["properties"]!["width"]!["type"]!.GetValue<string>(), Is.EqualTo("integer"));
    }

    [Test]
    public async Task The_docs_page_is_served_with_its_script_from_the_service()
    {
        using var page = await _client.GetAsync("/docs/");
        var html = await page.Content.ReadAsStringAsync();
        using var script = await _client.GetAsync("/docs/scalar.js");

        Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(html, Does.Contain("scalar.js").And.Contain("openapi/v1.json"));
        Assert.That(html, Does.Not.Contain("https://"), "no outside script or font");
        Assert.That(script.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    /// <summary>Indented, with \n line ends, so the committed file diffs line by line.</summary>
    private static string Normalized(string json) =>
        JsonNode.Parse(json)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }).ReplaceLineEndings("\n") + "\n";

    private static (int Line, string Expected, string Actual) FirstDifference(string expected, string actual)
    {
        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        for (var i = 0; i < Math.Max(expectedLines.Length, actualLines.Length); i++)
        {
            var e = i < expectedLines.Length ? expectedLines[i] : "(end of file)";
            var a = i < actualLines.Length ? actualLines[i] : "(end of file)";
            if (e != a)
            {
                return (i + 1, e.Trim(), a.Trim());
            }
        }

        return (0, "", "");
    }
}

using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Text.Json.Serialization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;
using ThumbnailApi.Endpoints;
using ThumbnailApi.Imaging;

namespace ThumbnailApi.Operations;

/// <summary>
/// The OpenAPI document at /openapi/v1.json and a page to read and try it at /docs (Scalar: its
/// script is inside the DLL; default fonts, telemetry and the hosted AI/MCP features are off, so
/// the page makes no outside request).
/// </summary>
public static class ApiDocs
{
    public const string DocumentPath = "/openapi/v1.json";

    private static readonly string[] HealthWords = ["healthy", "degraded", "unhealthy"];

    /// <summary>String properties that only ever hold one of a few words.</summary>
    private static readonly FrozenDictionary<(Type, string), IReadOnlyList<string>> Words = new Dictionary<(Type, string), IReadOnlyList<string>>
    {
        [(typeof(UploadAccepted), "status")] = ["success"],
        [(typeof(UploadAccepted), "task_status")] = [TaskResponses.Pending],
        [(typeof(TaskStatusResponse), "status")] = ["success"],
        [(typeof(TaskStatusResponse), "task_status")] = [TaskResponses.Pending, TaskResponses.Success, TaskResponses.Failure],
        [(typeof(TaskStatusResponse), "stage")] = ["queued", "processing"],
        [(typeof(BatchStatusResponse), "status")] = ["success"],
        [(typeof(RequestedOptions), "fit")] = SpecNames.Fits,
        [(typeof(RequestedOptions), "format")] = SpecNames.Formats,
        [(typeof(ApiError), "status")] = ["failed"],
        [(typeof(HealthResponse), "status")] = HealthWords,
        [(typeof(HealthCheckEntry), "status")] = HealthWords,
    }.ToFrozenDictionary();

    public static void Configure(OpenApiOptions options)
    {
        // Per schema id, the properties marked [JsonIgnore(Condition = Never)]: written even when null.
        var writtenWhenNull = new ConcurrentDictionary<string, HashSet<string>>();
        options.AddSchemaTransformer((schema, context, _) =>
        {
            DescribeWords(schema, context.JsonTypeInfo.Type);
            var always = context.JsonTypeInfo.Properties
                .Where(property => property.AttributeProvider?.GetCustomAttributes(typeof(JsonIgnoreAttribute), inherit: true)
                    is [JsonIgnoreAttribute { Condition: JsonIgnoreCondition.Never }])
                .Select(property => property.Name)
                .ToHashSet();
            if (always.Count > 0 && options.CreateSchemaReferenceId(context.JsonTypeInfo) is { } id)
            {
                writtenWhenNull[id] = always;
            }

            return Task.CompletedTask;
        });
        options.AddDocumentTransformer((document, context, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "ThumbnailApi",
                Version = "v1",
                Description = "Upload an image, get a task id, poll the task until it is SUCCESS, download the thumbnail. "
                              + "Every error is JSON: status, error_code (the HTTP status), code (snake_case) and message; also what the server "
                              + "refuses before any endpoint: a malformed request (400 bad_request), headers that do not arrive in time "
                              + "(408 request_timeout), a URL over 8 KB (414 url_too_long), headers over 32 KB (431 headers_too_large), "
                              + "an HTTP version other than 1.x (505 http_version_not_supported).",
            };
            foreach (var (id, schema) in document.Components?.Schemas ?? new Dictionary<string, IOpenApiSchema>())
            {
                if (schema is OpenApiSchema plain)
                {
                    // Here, once nullable references have become oneOf [null, $ref].
                    DescribeOmittedNulls(plain, writtenWhenNull.GetValueOrDefault(id) ?? []);
                }
            }

            // The address the document was fetched from (scheme, host and path base, as a trusted proxy
            // forwarded them), so the examples of /docs are whole commands that can be run as they are.
            document.Servers = context.ApplicationServices.GetRequiredService<IHttpContextAccessor>().HttpContext?.Request is { } request
                ? [new OpenApiServer { Url = $"{request.Scheme}://{request.Host.ToUriComponent()}{request.PathBase.ToUriComponent()}" }]
                : [];
            document.Tags = new HashSet<OpenApiTag>
            {
                new() { Name = "Thumbnails", Description = "Upload, status and download." },
                new() { Name = "Operations", Description = "Liveness and readiness probes." },
            };
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// The service writes no null (JSON option WhenWritingNull): a nullable property is left out
    /// instead, so it is optional rather than required, and its type does not include null. Only
    /// the properties in <paramref name="writtenWhenNull"/> are always written, null or not: they are required and nullable.
    /// </summary>
    private static void DescribeOmittedNulls(OpenApiSchema schema, IReadOnlySet<string> writtenWhenNull)
    {
        foreach (var (name, property) in schema.Properties?.ToList() ?? [])
        {
            if (writtenWhenNull.Contains(name))
            {
                (schema.Required ??= new HashSet<string>()).Add(name); // always present, perhaps null
                continue;
            }

            if (property is OpenApiSchema { Type: { } type } plain && type.HasFlag(JsonSchemaType.Null))
            {
                plain.Type = type & ~JsonSchemaType.Null;
            }
            else if (property is OpenApiSchema { OneOf: [OpenApiSchema { Type: JsonSchemaType.Null }, var other] })
            {
                schema.Properties![name] = other;
            }
            else
            {
                continue;
            }

            schema.Required?.Remove(name);
        }
    }

    private static void DescribeWords(OpenApiSchema schema, Type type)
    {
        foreach (var (name, property) in schema.Properties ?? new Dictionary<string, IOpenApiSchema>())
        {
            if (property is OpenApiSchema plain && Words.TryGetValue((type, name), out var words))
            {
                plain.Enum = [.. words.Select(word => (JsonNode)JsonValue.Create(word))];
            }
        }
    }

    public static IEndpointRouteBuilder MapApiDocs(this IEndpointRouteBuilder routes)
    {
        routes.MapOpenApi("/openapi/{documentName}.json");
        routes.MapScalarApiReference("/docs", scalar => scalar
            .WithTitle("ThumbnailApi")
            .WithOpenApiRoutePattern("/openapi/{documentName}.json")
            .DisableDefaultFonts()
            .DisableTelemetry()
            .DisableAgent()
            .DisableMcp()
            .HideDeveloperTools()
            .HideClientButton()
            .WithDefaultHttpClient(ScalarTarget.Shell, ScalarClient.Curl));
        return routes;
    }
}

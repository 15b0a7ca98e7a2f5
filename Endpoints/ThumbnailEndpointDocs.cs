using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using ThumbnailApi.Imaging;

namespace ThumbnailApi.Endpoints;

/// <summary>
/// What the OpenAPI document (/openapi/v1.json) says about each thumbnail endpoint: names,
/// summaries, the multipart body and option parameters the upload reads by hand, every error
/// status with the codes it carries, and the headers that matter. Kept next to the route table.
/// </summary>
public static class ThumbnailEndpointDocs
{
    // The options are documented once, as form fields, so that generated examples (the curl snippets
    // of /docs) send each once; query parameters are still read, for the old service's clients.
    private const string OptionNote =
        "The options are form fields; they are also read from query parameters of the same names (a form field wins). "
        + "A bad value is a 400 `invalid_option` naming the field.";

    public static RouteHandlerBuilder DescribeUpload(this RouteHandlerBuilder route) => route
        .WithName("UploadImage")
        .WithSummary("Upload an image; get a task id")
        .WithDescription(
            "Send `multipart/form-data` with one file part named `image` (PNG, JPEG, GIF, BMP, TIFF, WebP, HEIC or AVIF — the last two when the server has libheif — decided from the bytes, "
            + "never from the name). The answer comes once the upload is stored and queued: poll `status_url` until `task_status` "
            + "is SUCCESS or FAILED. " + OptionNote
            + $" With an `{IdempotentUpload.Header}` header, a retry with the same key, image and options within 24 hours "
            + $"gets the same task again (202, marked `{IdempotentUpload.ReplayedHeader}: true`) instead of a second one.")
        .ProducesApiError(StatusCodes.Status400BadRequest,
            "`missing_image`: not multipart/form-data, no `image` part, an empty file, a cut-off body, more than 32 parts "
            + "or a part whose Content-Disposition cannot be read. "
            + $"`invalid_option`: a bad width, height, fit, format or `{IdempotentUpload.Header}` (`field` names it).")
        .ProducesApiError(StatusCodes.Status413PayloadTooLarge, "`file_too_large`: the upload is over the size limit.")
        .ProducesApiError(StatusCodes.Status415UnsupportedMediaType,
            "`unsupported_format`: the bytes are not PNG, JPEG, GIF, BMP, TIFF, WebP, HEIC or AVIF, whatever the file name says (or HEIC or AVIF on a server without libheif: the message says so).")
        .ProducesApiError(StatusCodes.Status422UnprocessableEntity,
            "`corrupt_image`: the header cannot be read. `image_too_large`: more pixels or frames than the limits allow (checked before decoding). "
            + $"`idempotency_key_reused`: the `{IdempotentUpload.Header}` was used in the last 24 hours for another image or other options.")
        .ProducesApiError(StatusCodes.Status429TooManyRequests,
            "`rate_limited`: this client sent more uploads per minute than allowed, or already has as many uploads in progress "
            + "as it may have at once. Retry after the seconds in `Retry-After`.")
        .ProducesApiError(StatusCodes.Status503ServiceUnavailable,
            "`queue_full`: too many images wait for a worker; nothing was stored. `too_many_uploads`: the service is receiving as many "
            + "uploads at once as it takes; the body was not read. `storage_unavailable`: the data folder cannot be "
            + "written (disk full, read-only), has less free space than the service keeps in reserve, or is not recovered yet, "
            + "or the object storage (S3) cannot be reached; "
            + "nothing was stored. Retry after the seconds in `Retry-After`.")
        .ProducesApiError(StatusCodes.Status500InternalServerError, "`internal_error`: something unexpected; the detail is only in the service's log.")
        .AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = "The image and, optionally, the thumbnail options.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["multipart/form-data"] = new() { Schema = UploadForm() },
                },
            };
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = IdempotentUpload.Header,
                In = ParameterLocation.Header,
                Description = $"Optional: makes a retry safe. 1 to {IdempotentUpload.MaxKeyLength} printable ASCII characters, such as a UUID.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = IdempotentUpload.MaxKeyLength },
            });
            AddHeader(operation, StatusCodes.Status202Accepted, "Location", "The task's status address, relative to the service.");
            AddHeader(operation, StatusCodes.Status202Accepted, IdempotentUpload.ReplayedHeader, "true when this answers a retry with the task made earlier.");
            AddHeader(operation, StatusCodes.Status429TooManyRequests, "Retry-After", "Seconds to wait before trying again.", JsonSchemaType.Integer);
            AddHeader(operation, StatusCodes.Status503ServiceUnavailable, "Retry-After", "Seconds to wait before trying again.", JsonSchemaType.Integer);
            return Task.CompletedTask;
        });

    public static RouteHandlerBuilder DescribeStatus(this RouteHandlerBuilder route) => route
        .WithName("GetTaskStatus")
        .WithSummary("A task's status, and its thumbnail's address once made")
        .WithDescription(
            "`task_status` is PENDING (with `stage` queued or processing), SUCCESS (with `image`: the thumbnail's url, size and type) "
            + "or FAILED (with `error.code` and `error.message`). Task failure codes: corrupt_image, unsupported_format, image_too_large, "
            + "processing_timeout, processing_crashed, upload_missing, internal_error.")
        .ProducesApiError(StatusCodes.Status400BadRequest, "`invalid_option`: `wait` is not a number of seconds from 0 to 30.")
        .ProducesApiError(StatusCodes.Status404NotFound, "`task_not_found`: no task has this id (or it is malformed).")
        .AddOpenApiOperationTransformer((operation, _, _) =>
        {
            DescribeTaskId(operation);
            if (operation.Parameters?.FirstOrDefault(parameter => parameter.Name == "wait") is OpenApiParameter wait)
            {
                wait.Description = $"Seconds (0–{WaitOption.MaxSeconds}, decimals allowed) to hold the answer while the task is PENDING: "
                                   + "it comes as soon as the task finishes, or at the end of the wait with PENDING.";
                wait.Schema = new OpenApiSchema { Type = JsonSchemaType.Number, Minimum = "0", Maximum = WaitOption.MaxSeconds.ToString(CultureInfo.InvariantCulture) };
            }

            return Task.CompletedTask;
        });

    public static RouteHandlerBuilder DescribeBatchStatus(this RouteHandlerBuilder route) => route
        .WithName("GetTaskStatuses")
        .WithSummary("Statuses of several tasks")
        .WithDescription($"`?ids=a,b,c` (1 to {BatchStatusEndpoint.MaxIds} ids): the found tasks in the order asked, each as GET /{{taskId}} answers it; "
                         + "unknown or malformed ids are listed under `not_found`.")
        .ProducesApiError(StatusCodes.Status400BadRequest, $"`invalid_option`: `ids` is missing or lists more than {BatchStatusEndpoint.MaxIds} ids.")
        .AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.Parameters?.FirstOrDefault(parameter => parameter.Name == "ids") is OpenApiParameter ids)
            {
                ids.Description = "Task ids separated by commas (the parameter may also be repeated).";
                ids.Required = true;
            }

            return Task.CompletedTask;
        });

    public static RouteHandlerBuilder DescribeDelete(this RouteHandlerBuilder route) => route
        .WithName("DeleteTask")
        .WithSummary("Delete a task")
        .WithDescription("Removes the task, its upload and its thumbnail (204). Safe while the task is being processed: "
                         + "the result is discarded and nothing is left on disk.")
        .ProducesApiError(StatusCodes.Status404NotFound, "`task_not_found`: no task has this id (or it is malformed).")
        .AddOpenApiOperationTransformer((operation, _, _) =>
        {
            DescribeTaskId(operation);
            SetDescription(operation, StatusCodes.Status204NoContent, "Deleted.");
            return Task.CompletedTask;
        });

    public static RouteHandlerBuilder DescribeThumbnail(this RouteHandlerBuilder route) => route
        .WithName("GetThumbnail")
        .WithSummary("Download the thumbnail")
        .WithDescription("The image bytes, with a strong ETag and `Cache-Control: public, max-age=31536000, immutable` (a thumbnail never changes).")
        .Produces<Stream>(StatusCodes.Status200OK, "image/png", "image/jpeg", "image/webp")
        .Produces(StatusCodes.Status304NotModified)
        .ProducesApiError(StatusCodes.Status404NotFound, "`task_not_found`: no task has this id (or it is malformed).")
        .ProducesApiError(StatusCodes.Status409Conflict,
            "`thumbnail_not_ready`: the task is still PENDING. `task_failed`: the task failed, so there is no thumbnail (its status says why).")
        .AddOpenApiOperationTransformer((operation, _, _) =>
        {
            DescribeTaskId(operation);
            operation.Parameters!.Add(new OpenApiParameter
            {
                Name = "If-None-Match",
                In = ParameterLocation.Header,
                Description = "An ETag from an earlier download: 304 Not Modified when it still matches.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
            AddHeader(operation, StatusCodes.Status200OK, "ETag", "Strong validator of the thumbnail bytes.");
            AddHeader(operation, StatusCodes.Status200OK, "Cache-Control", "public, max-age=31536000, immutable");
            SetDescription(operation, StatusCodes.Status200OK, "The thumbnail; its Content-Type is the task's image.content_type.");
            SetDescription(operation, StatusCodes.Status304NotModified, "The ETag in If-None-Match still matches: use the copy you have.");
            return Task.CompletedTask;
        });

    /// <summary>Declares an error status answered with the <see cref="ApiError"/> body, and says which codes it carries.</summary>
    public static RouteHandlerBuilder ProducesApiError(this RouteHandlerBuilder route, int status, string description) => route
        .Produces<ApiError>(status, "application/json")
        .AddOpenApiOperationTransformer((operation, _, _) =>
        {
            SetDescription(operation, status, description);
            return Task.CompletedTask;
        });

    private static OpenApiSchema UploadForm()
    {
        var form = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { MultipartUpload.ImageField },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                [MultipartUpload.ImageField] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Format = "binary",
                    Description = "The image file. Its name is reported back (last path segment, at most 255 characters) and never used as a path.",
                },
            },
        };
        foreach (var (name, schema) in Options())
        {
            form.Properties[name] = schema;
        }

        return form;
    }

    /// <summary>The thumbnail options, from the same constants the parser checks against.</summary>
    private static IEnumerable<(string Name, OpenApiSchema Schema)> Options()
    {
        var defaults = ThumbnailSpec.Default;
        var max = ThumbnailSpec.MaxSide.ToString(CultureInfo.InvariantCulture);
        yield return ("width", new OpenApiSchema
        {
            Type = JsonSchemaType.Integer, Minimum = "1", Maximum = max, Default = JsonValue.Create(defaults.Width),
            Description = "Thumbnail width in pixels.",
        });
        yield return ("height", new OpenApiSchema
        {
            Type = JsonSchemaType.Integer, Minimum = "1", Maximum = max, Default = JsonValue.Create(defaults.Height),
            Description = "Thumbnail height in pixels.",
        });
        yield return ("fit", new OpenApiSchema
        {
            Type = JsonSchemaType.String, Enum = Words(SpecNames.Fits), Default = JsonValue.Create(defaults.Fit.Name()),
            Description = "cover fills the box and centre-crops; contain fits inside and pads; inside fits inside without padding; fill stretches.",
        });
        yield return ("format", new OpenApiSchema
        {
            Type = JsonSchemaType.String, Enum = [.. Words(SpecNames.Formats), JsonValue.Create("jpg")], Default = JsonValue.Create(defaults.Format.Name()),
            Description = "Output format; auto gives JPEG for JPEG input and PNG for anything else. jpg is the same as jpeg.",
        });
        yield return ("quality", new OpenApiSchema
        {
            Type = JsonSchemaType.Integer,
            Minimum = ThumbnailSpec.MinQuality.ToString(CultureInfo.InvariantCulture),
            Maximum = ThumbnailSpec.MaxQuality.ToString(CultureInfo.InvariantCulture),
            Description = $"Encoder quality for JPEG and WebP output, 1 (smallest) to 100 (best); by default {Encode.JpegQuality} for JPEG "
                          + $"(with full-resolution colour) and {Encode.WebPQuality} for WebP. PNG is lossless and ignores it.",
        });
    }

    private static List<JsonNode> Words(IEnumerable<string> words) => [.. words.Select(word => (JsonNode)JsonValue.Create(word))];

    private static void DescribeTaskId(OpenApiOperation operation)
    {
        if (operation.Parameters?.FirstOrDefault(parameter => parameter.Name == "taskId") is OpenApiParameter taskId)
        {
            taskId.Description = "The task_id from the upload's answer (32 lowercase hex characters).";
        }
    }

    private static void AddHeader(OpenApiOperation operation, int status, string name, string description, JsonSchemaType type = JsonSchemaType.String)
    {
        if (operation.Responses?.GetValueOrDefault(status.ToString(CultureInfo.InvariantCulture)) is OpenApiResponse response)
        {
            response.Headers ??= new Dictionary<string, IOpenApiHeader>();
            response.Headers[name] = new OpenApiHeader { Description = description, Schema = new OpenApiSchema { Type = type } };
        }
    }

    private static void SetDescription(OpenApiOperation operation, int status, string description)
    {
        if (operation.Responses?.GetValueOrDefault(status.ToString(CultureInfo.InvariantCulture)) is OpenApiResponse response)
        {
            response.Description = description;
        }
    }
}

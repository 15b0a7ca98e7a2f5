using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;
using ThumbnailApi.Operations;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Endpoints;

/// <summary>
/// JSON instead of HTML or an empty body for everything outside the endpoints: unknown routes,
/// wrong methods, malformed requests and unexpected exceptions. No stack trace, path or SQL leaves.
/// </summary>
public static partial class JsonErrorPages
{
    public static IApplicationBuilder UseJsonErrors(this IApplicationBuilder app)
    {
        app.Use(static (context, next) =>
        {
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return next(context);
        });
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = WriteExceptionAsync });
        app.UseStatusCodePages(static context => WriteStatusAsync(context.HttpContext));
        return app;
    }

    /// <summary>
    /// The code and message of an error status that no endpoint chose: answered by the status code
    /// pages here, and by <see cref="KestrelRejections"/> for what Kestrel refuses before any middleware runs.
    /// </summary>
    public static (string Code, string Message) ErrorFor(int status) => status switch
    {
        StatusCodes.Status404NotFound => ("not_found", "There is nothing at this address. The API lives under /api/v1/thumbnail_generator/."),
        StatusCodes.Status405MethodNotAllowed => ("method_not_allowed", "This address does not accept this HTTP method."),
        StatusCodes.Status408RequestTimeout => ("request_timeout", "The request did not arrive in time. Send it again, without pausing."),
        StatusCodes.Status411LengthRequired => ("length_required", "A request with a body needs a Content-Length or Transfer-Encoding: chunked."),
        StatusCodes.Status413PayloadTooLarge => ("file_too_large", "The request body is larger than allowed."),
        StatusCodes.Status414UriTooLong => ("url_too_long", "The address (request line) is longer than the service accepts (8 KB)."),
        StatusCodes.Status415UnsupportedMediaType => ("unsupported_media_type", "This content type is not accepted here."),
        StatusCodes.Status431RequestHeaderFieldsTooLarge => ("headers_too_large", "The request headers are larger than the service accepts (32 KB in all)."),
        StatusCodes.Status501NotImplemented => ("not_implemented", "The service does not support what this request asks for (its method or transfer coding)."),
        StatusCodes.Status505HttpVersionNotsupported => ("http_version_not_supported", "Send the request as HTTP/1.1."),
        >= 500 => ("internal_error", "Something went wrong on our side. Try again later."),
        _ => ("bad_request", "The request could not be understood (a malformed request line, header, Content-Length or body)."),
    };

    private static Task WriteStatusAsync(HttpContext context)
    {
        var status = context.Response.StatusCode;
        var (code, message) = ErrorFor(status);
        return ApiErrors.Create(status, code, message).ExecuteAsync(context);
    }

    private static Task WriteExceptionAsync(HttpContext context)
    {
        var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        if (exception is BadHttpRequestException badRequest)
        {
            context.Response.StatusCode = badRequest.StatusCode;
            return WriteStatusAsync(context);
        }

        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(JsonErrorPages));
        if (exception is not null && StorageUnavailableException.Matches(exception))
        {
            // Disk full, read-only or locked: the service's trouble, and it passes. Never a crash, never a path in the answer.
            StorageFailed(logger, LogText.Escape(context.Request.Method), LogText.Escape(context.Request.Path.Value), exception);
            var retryAfter = context.RequestServices.GetRequiredService<IOptions<ServiceOptions>>().Value.RetryAfterSeconds;
            context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return ApiErrors.StorageUnavailable().ExecuteAsync(context);
        }

        Unhandled(logger, LogText.Escape(context.Request.Method), LogText.Escape(context.Request.Path.Value), exception);
        return ApiErrors.Internal().ExecuteAsync(context);
    }

    [LoggerMessage(1100, LogLevel.Error, "Unhandled error in {Method} {Path}")]
    private static partial void Unhandled(ILogger logger, string method, string path, Exception? exception);

    [LoggerMessage(1101, LogLevel.Error, "{Method} {Path} answered 503: the data folder, blob store or database cannot be used")]
    private static partial void StorageFailed(ILogger logger, string method, string path, Exception exception);
}

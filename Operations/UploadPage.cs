namespace ThumbnailApi.Operations;

/// <summary>The upload page at / and its script and style, served from wwwroot/ as they are (no build step).</summary>
public static class UploadPage
{
    /// <summary>The page loads only its own files: its script, its style and the thumbnails.</summary>
    private const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

    public static IApplicationBuilder UseUploadPage(this IApplicationBuilder app)
    {
        app.UseWrongMethodOnPageFiles();
        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = file =>
            {
                var headers = file.Context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.CacheControl = "no-cache"; // revalidate (ETag), so a new version shows at once
                headers["Referrer-Policy"] = "no-referrer";
            },
        });
        return app;
    }

    /// <summary>
    /// The page and its files are read with GET or HEAD: any other method on them is a 405 naming
    /// those (the JSON body comes from the status code pages), as routing answers for the API's addresses,
    /// instead of the 404 the static files would leave.
    /// </summary>
    private static void UseWrongMethodOnPageFiles(this IApplicationBuilder app)
    {
        var files = app.ApplicationServices.GetRequiredService<IWebHostEnvironment>().WebRootFileProvider;
        app.Use((context, next) =>
        {
            var request = context.Request;
            if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || !IsPageFile(files, request.Path))
            {
                return next(context);
            }

            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            context.Response.Headers.Allow = "GET, HEAD";
            return Task.CompletedTask;
        });
    }

    private static bool IsPageFile(Microsoft.Extensions.FileProviders.IFileProvider files, PathString path) =>
        path.Value is "/" or "/index.html" || (path.HasValue && path.Value!.Count(c => c == '/') == 1 && files.GetFileInfo(path.Value) is { Exists: true, IsDirectory: false });
}

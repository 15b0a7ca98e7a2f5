namespace ThumbnailApi.Operations;

/// <summary>The upload page at / and its script and style, served from wwwroot/ as they are (no build step).</summary>
public static class UploadPage
{
    /// <summary>The page loads only its own files: its script, its style and the thumbnails.</summary>
    private const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

    public static IApplicationBuilder UseUploadPage(this IApplicationBuilder app)
    {
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
}

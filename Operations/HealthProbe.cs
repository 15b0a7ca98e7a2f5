namespace ThumbnailApi.Operations;

/// <summary>
/// <c>ThumbnailApi --health-check</c>: asks the running service's /healthz on this machine and
/// exits 0 when it answers 200, 1 otherwise. The container's HEALTHCHECK uses it, so the image
/// needs no curl. The address comes from the same settings the service reads (Urls,
/// ASPNETCORE_URLS, ASPNETCORE_HTTP_PORTS, --urls; port 8000 when none is set), with a wildcard
/// host read as localhost.
/// </summary>
public static class HealthProbe
{
    public const string Flag = "--health-check";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static bool IsRequested(string[] args) => args.Contains(Flag);

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var url = LivenessUrl(args);
        if (url is null)
        {
            await output.WriteLineAsync("unhealthy: no http address is configured (Urls or ASPNETCORE_HTTP_PORTS)");
            return 1;
        }

        using var http = new HttpClient { Timeout = Timeout };
        try
        {
            using var response = await http.GetAsync(url);
            var healthy = response.IsSuccessStatusCode;
            await output.WriteLineAsync($"{(healthy ? "healthy" : "unhealthy")}: {url} answered {(int)response.StatusCode}");
            return healthy ? 0 : 1;
        }
        catch (Exception problem) when (problem is HttpRequestException or TaskCanceledException)
        {
            await output.WriteLineAsync($"unhealthy: {url} did not answer ({problem.GetType().Name})");
            return 1;
        }
    }

    /// <summary>/healthz on the first http address the service listens on, or null when there is none.</summary>
    public static Uri? LivenessUrl(string[] args)
    {
        var settings = Settings(args.Where(arg => arg != Flag).ToArray());
        if (!ServiceRegistration.HasListenAddress(settings))
        {
            return LivenessUrlOf(ServiceRegistration.DefaultUrl);
        }

        var address = settings["urls"]?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                          .FirstOrDefault(url => url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
                      ?? settings["http_ports"]?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                          .Select(port => $"http://localhost:{port}").FirstOrDefault();
        if (address is null)
        {
            return null;
        }

        return LivenessUrlOf(address);
    }

    private static Uri LivenessUrlOf(string address)
    {
        // http://+:8000, http://*:8000, http://0.0.0.0:8000 and http://[::]:8000 listen everywhere, localhost included.
        var binding = BindingAddress.Parse(address);
        var host = binding.Host is "+" or "*" or "0.0.0.0" or "[::]" ? "localhost" : binding.Host;
        return new UriBuilder(binding.Scheme, host, binding.Port, binding.PathBase + "/healthz").Uri;
    }

    /// <summary>The settings in the order WebApplication reads them: later sources win.</summary>
    private static IConfiguration Settings(string[] args)
    {
        var environment = Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
                          ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? "Production";
        // The same appsettings.json the service reads: next to the app, unless a content root is named.
        var contentRoot = ServiceRegistration.BuilderOptions(args).ContentRootPath ?? Directory.GetCurrentDirectory();
        return new ConfigurationBuilder()
            .AddEnvironmentVariables("ASPNETCORE_")
            .AddJsonFile(Path.Combine(contentRoot, "appsettings.json"), optional: true)
            .AddJsonFile(Path.Combine(contentRoot, $"appsettings.{environment}.json"), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();
    }
}

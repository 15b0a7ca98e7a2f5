using Amazon;
using Amazon.S3;
using Microsoft.Extensions.Options;

namespace ThumbnailApi.Blobs;

/// <summary>
/// Chooses the blob store from configuration (<see cref="ServiceOptions.Blobs"/>): the data folder (the
/// default) or an S3-compatible bucket (<c>ThumbnailApi:S3</c>). Chosen when services are resolved,
/// after every configuration source is in.
/// </summary>
public static class BlobRegistration
{
    public const string S3Section = ServiceOptions.Section + ":S3";

    public static IServiceCollection AddBlobStore(this IServiceCollection services, Func<ServiceOptions, string> dataPath)
    {
        services.AddOptions<S3Options>()
            .BindConfiguration(S3Section)
            .Validate<IOptions<ServiceOptions>>(
                (s3, service) => service.Value.Blobs != BlobStoreKind.S3 || !string.IsNullOrWhiteSpace(s3.Bucket),
                "ThumbnailApi:Blobs is s3, so ThumbnailApi:S3:Bucket (ThumbnailApi__S3__Bucket) must name the bucket.")
            .Validate(s3 => string.IsNullOrEmpty(s3.ServiceUrl) || Uri.TryCreate(s3.ServiceUrl, UriKind.Absolute, out _),
                "ThumbnailApi:S3:ServiceUrl must be an absolute URL such as http://minio:9000, or empty for AWS itself.")
            .Validate(s3 => string.IsNullOrEmpty(s3.Prefix) || (BlobKeys.IsValid(s3.Prefix.TrimEnd('/')) && s3.Prefix.EndsWith('/')),
                "ThumbnailApi:S3:Prefix must be letters, digits, '-', '_' or '.' segments ending with '/', such as thumbnailapi/.")
            .ValidateOnStart();

        services.AddSingleton<IAmazonS3>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<S3Options>>().Value;
            // A request that hangs or a server that is down must end as a 503 storage_unavailable within
            // a client's patience, not after the SDK's defaults (100 s, 4 retries with back-off).
            var config = new AmazonS3Config
            {
                ForcePathStyle = options.ForcePathStyle,
                AuthenticationRegion = options.Region,
                Timeout = TimeSpan.FromSeconds(60),
                MaxErrorRetry = 2,
            };
            if (string.IsNullOrEmpty(options.ServiceUrl))
            {
                config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
            }
            else
            {
                config.ServiceURL = options.ServiceUrl;
            }

            return new AmazonS3Client(config); // credentials: the SDK's standard chain (environment, profile, role)
        });
        services.AddSingleton<IBlobStore>(provider =>
        {
            var folder = dataPath(provider.GetRequiredService<IOptions<ServiceOptions>>().Value);
            return provider.GetRequiredService<IOptions<ServiceOptions>>().Value.Blobs == BlobStoreKind.S3
                ? new S3BlobStore(provider.GetRequiredService<IAmazonS3>(), provider.GetRequiredService<IOptions<S3Options>>().Value, Path.Combine(folder, "scratch"))
                : new LocalBlobStore(folder);
        });
        return services;
    }
}

/// <summary>Where uploads and thumbnails are stored.</summary>
public enum BlobStoreKind
{
    /// <summary>Files in the data folder.</summary>
    Local,

    /// <summary>Objects in an S3-compatible bucket.</summary>
    S3,
}

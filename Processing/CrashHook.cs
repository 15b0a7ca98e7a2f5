using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using ThumbnailApi.Imaging;

namespace ThumbnailApi.Processing;

/// <summary>
/// Test-only settings, section "ThumbnailApi:TestHooks". All are off unless an operator sets them
/// in configuration; no request can switch them on.
/// </summary>
public sealed class TestHookOptions
{
    public const string Section = "ThumbnailApi:TestHooks";

    /// <summary>
    /// When set, the process kills itself (Environment.FailFast) as soon as a worker starts on an
    /// upload with this SHA-256 (64 hex digits): a stand-in for an image that crashes a native decoder,
    /// used to show that such a task is tried at most MaxAttempts times and then FAILED processing_crashed.
    /// </summary>
    [RegularExpression("^[0-9a-fA-F]{64}$")]
    public string? CrashOnInputSha256 { get; set; }
}

/// <summary>Wraps the pipeline with the crash hook when it is configured; otherwise returns the pipeline untouched.</summary>
public static class CrashHook
{
    public static IThumbnailer Wrap(IThumbnailer pipeline, TestHookOptions hooks) =>
        hooks.CrashOnInputSha256 is { } sha256 ? new CrashingThumbnailer(pipeline, sha256.ToLowerInvariant()) : pipeline;

    private sealed class CrashingThumbnailer(IThumbnailer inner, string sha256) : IThumbnailer
    {
        public EncodedThumbnail Create(Stream input, ThumbnailSpec spec, long reservedBytes = long.MaxValue, CancellationToken cancellation = default)
        {
            var hash = Convert.ToHexStringLower(SHA256.HashData(input));
            input.Position = 0;
            if (hash == sha256)
            {
                Environment.FailFast("Test hook ThumbnailApi:TestHooks:CrashOnInputSha256: crashing on purpose while processing this upload.");
            }

            return inner.Create(input, spec, reservedBytes, cancellation);
        }
    }
}

using System.Runtime.InteropServices;

namespace ThumbnailApi.Imaging.Heif;

/// <summary>
/// Whether libheif is installed and which of its decoders it has, found once. The service runs
/// without it: HEIC and AVIF uploads are then refused with a message that says what to install,
/// and <c>/readyz</c> lists the formats on offer.
/// </summary>
public static class HeifLibrary
{
    private static readonly Lazy<HeifSupport> Probed = new(Probe);

    static HeifLibrary() => NativeLibrary.SetDllImportResolver(typeof(HeifLibrary).Assembly, HeifNative.Resolve);

    public static HeifSupport Support => Probed.Value;

    /// <summary>What to tell a user whose HEIC or AVIF upload cannot be read here.</summary>
    public static string MissingMessage(ImageFormat format) =>
        $"{format.CommonName()} images need libheif with its {(format == ImageFormat.Avif ? "AV1" : "HEVC")} decoder, which this server does not have (Debian 12 or Ubuntu: apt-get install libheif1). Convert it to JPEG or PNG, or ask the operator to install it.";

    private static unsafe HeifSupport Probe()
    {
        if (HeifNative.Resolve(HeifNative.Library, typeof(HeifLibrary).Assembly, null) == 0)
        {
            return new HeifSupport(null, Hevc: false, Av1: false);
        }

        try
        {
            var version = Marshal.PtrToStringUTF8((IntPtr)HeifNative.GetVersion());
            return new HeifSupport(version, HeifNative.HaveDecoderForFormat(HeifNative.CompressionHevc) != 0, HeifNative.HaveDecoderForFormat(HeifNative.CompressionAv1) != 0);
        }
        catch (EntryPointNotFoundException)
        {
            return new HeifSupport(null, Hevc: false, Av1: false); // a libheif too old for these calls
        }
    }
}

/// <summary>The libheif found (its version, null when none) and whether it decodes HEVC (HEIC) and AV1 (AVIF).</summary>
public sealed record HeifSupport(string? Version, bool Hevc, bool Av1)
{
    public bool Decodes(ImageFormat format) => format switch
    {
        ImageFormat.Heic => Hevc,
        ImageFormat.Avif => Av1,
        _ => false,
    };
}

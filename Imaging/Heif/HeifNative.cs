using System.Reflection;
using System.Runtime.InteropServices;

namespace ThumbnailApi.Imaging.Heif;

/// <summary>
/// The handful of libheif functions the HEIC/AVIF decoder calls (libheif 1.15, Debian 12's
/// <c>libheif1</c>, which brings its HEVC and AV1 decoders). The library is looked up when first
/// needed; when it is missing, <see cref="HeifLibrary.Support"/> says so and nothing here is called.
/// </summary>
internal static unsafe partial class HeifNative
{
    public const string Library = "heif";

    public const int ColourspaceRgb = 1;
    public const int ChromaInterleavedRgba = 11;
    public const int ChannelInterleaved = 10;
    public const int CompressionHevc = 1;
    public const int CompressionAv1 = 4;
    public const int ColourProfileIcc = 0x70726f66; // 'prof'
    public const int ColourProfileRestrictedIcc = 0x72494343; // 'rICC'
    public const int UnsupportedFiletype = 3; // heif_error_Unsupported_filetype
    public const int UnsupportedFeature = 4; // heif_error_Unsupported_feature

    [StructLayout(LayoutKind.Sequential)]
    public readonly struct Error
    {
        public readonly int Code;
        public readonly int Subcode;
        public readonly byte* Message;

        public bool Failed => Code != 0;

        public string Text => (Message is null ? null : Marshal.PtrToStringUTF8((IntPtr)Message)?.Trim()) is { Length: > 0 } text
            ? text.TrimEnd('.')
            : $"libheif error {Code}.{Subcode}";

        /// <summary>This error as the refusal of an upload (see <see cref="RejectionFor"/>).</summary>
        public ImageRejectedException ToRejection(ImageFormat format, string whatFailed) => RejectionFor(Code, Text, format, whatFailed);

        /// <summary>
        /// libheif's error <paramref name="code"/> as a refusal: a file libheif does not support (a
        /// brand, codec or feature it lacks) is unsupported_format; anything else in the data is
        /// corrupt_image ("the HEIC <paramref name="whatFailed"/>: …").
        /// </summary>
        public static ImageRejectedException RejectionFor(int code, string text, ImageFormat format, string whatFailed) =>
            code is UnsupportedFiletype or UnsupportedFeature
                ? new ImageRejectedException(Rejection.UnsupportedFormat, $"This {format.CommonName()} file uses something libheif cannot read ({text}); convert it to JPEG or PNG.")
                : ImageRejectedException.Corrupt($"the {format.CommonName()} {whatFailed}: {text}");
    }

    [LibraryImport(Library, EntryPoint = "heif_get_version")]
    public static partial byte* GetVersion();

    [LibraryImport(Library, EntryPoint = "heif_have_decoder_for_format")]
    public static partial int HaveDecoderForFormat(int format);

    [LibraryImport(Library, EntryPoint = "heif_context_alloc")]
    public static partial nint ContextAlloc();

    [LibraryImport(Library, EntryPoint = "heif_context_free")]
    public static partial void ContextFree(nint context);

    [LibraryImport(Library, EntryPoint = "heif_context_read_from_memory_without_copy")]
    public static partial Error ReadFromMemoryWithoutCopy(nint context, void* memory, nuint size, nint options);

    [LibraryImport(Library, EntryPoint = "heif_context_get_number_of_top_level_images")]
    public static partial int NumberOfTopLevelImages(nint context);

    [LibraryImport(Library, EntryPoint = "heif_context_get_primary_image_handle")]
    public static partial Error PrimaryImageHandle(nint context, out nint handle);

    [LibraryImport(Library, EntryPoint = "heif_image_handle_release")]
    public static partial void HandleRelease(nint handle);

    [LibraryImport(Library, EntryPoint = "heif_image_handle_get_width")]
    public static partial int HandleWidth(nint handle);

    [LibraryImport(Library, EntryPoint = "heif_image_handle_get_height")]
    public static partial int HandleHeight(nint handle);

    [LibraryImport(Library, EntryPoint = "heif_image_handle_has_alpha_channel")]
    public static partial int HandleHasAlpha(nint handle);

    [LibraryImport(Library, EntryPoint = "heif_image_handle_get_number_of_thumbnails")]
    public static partial int NumberOfThumbnails(nint handle);

    [LibraryImport(Library, EntryPoint = "heif_image_handle_get_list_of_thumbnail_IDs")]
    public static partial int ThumbnailIds(nint handle, uint* ids, int count);

    [LibraryImport(Library, EntryPoint = "heif_image_handle_get_thumbnail")]
    public static partial Error Thumbnail(nint handle, uint id, out nint thumbnail);

    [LibraryImport(Library, EntryPoint = "heif_image_handle_get_color_profile_type")]
    public static partial int ColourProfileType(nint handle);

    [LibraryImport(Library, EntryPoint = "heif_image_handle_get_raw_color_profile_size")]
    public static partial nuint RawColourProfileSize(nint handle);

    [LibraryImport(Library, EntryPoint = "heif_image_handle_get_raw_color_profile")]
    public static partial Error RawColourProfile(nint handle, void* profile);

    [LibraryImport(Library, EntryPoint = "heif_decode_image")]
    public static partial Error DecodeImage(nint handle, out nint image, int colourspace, int chroma, nint options);

    [LibraryImport(Library, EntryPoint = "heif_image_release")]
    public static partial void ImageRelease(nint image);

    [LibraryImport(Library, EntryPoint = "heif_image_get_width")]
    public static partial int ImageWidth(nint image, int channel);

    [LibraryImport(Library, EntryPoint = "heif_image_get_height")]
    public static partial int ImageHeight(nint image, int channel);

    [LibraryImport(Library, EntryPoint = "heif_image_get_plane_readonly")]
    public static partial byte* PlaneReadonly(nint image, int channel, out int stride);

    /// <summary>Resolves <see cref="Library"/> to Debian's <c>libheif.so.1</c> (or whatever the loader finds by that name).</summary>
    internal static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library)
        {
            return 0;
        }

        foreach (var candidate in new[] { "libheif.so.1", "libheif.so", "libheif.1.dylib", "heif" })
        {
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle))
            {
                return handle;
            }
        }

        return 0;
    }
}

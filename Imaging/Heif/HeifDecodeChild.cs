using System.Buffers.Binary;

namespace ThumbnailApi.Imaging.Heif;

/// <summary>
/// <c>ThumbnailApi --decode-heif ITEM</c>: the one place HEVC and AV1 pictures are decoded, in a
/// process of its own that ends right after. It reads a HEIC or AVIF file on standard input,
/// decodes the primary picture (ITEM 0) or the stored thumbnail with that item id, and writes
/// "HRGB", the width and height (32-bit little-endian), then the rows as RGBA (alpha not
/// premultiplied) on standard output. On failure it writes libheif's error code and message on
/// standard error and exits with 2.
/// Why a process: libheif 1.15 decodes a HEIC cut inside its HEVC data without an error, and what
/// it never decoded is whatever the decoder's memory held, which in the service could be an
/// earlier upload's pixels; a fresh process holds no one else's. A crash in a native decoder ends
/// only this process too.
/// </summary>
public static unsafe class HeifDecodeChild
{
    public const string Flag = "--decode-heif";

    public const int DecodeFailed = 2;

    public static ReadOnlySpan<byte> Magic => "HRGB"u8;

    public static bool IsRequested(string[] args) => args.Length > 0 && args[0] == Flag;

    public static int Run(string[] args, Stream input, Stream output, TextWriter errors)
    {
        var item = args.Length > 1 && uint.TryParse(args[1], out var id) ? id : 0;
        using var file = new MemoryStream();
        input.CopyTo(file);
        var bytes = file.GetBuffer();
        if (!HeifLibrary.Support.Hevc && !HeifLibrary.Support.Av1)
        {
            errors.WriteLine("0|libheif is not installed");
            return DecodeFailed;
        }

        var context = HeifNative.ContextAlloc();
        nint primary = 0, handle = 0, image = 0;
        try
        {
            fixed (byte* memory = bytes)
            {
                if (Failed(HeifNative.ReadFromMemoryWithoutCopy(context, memory, (nuint)file.Length, 0), errors)
                    || Failed(HeifNative.PrimaryImageHandle(context, out primary), errors))
                {
                    return DecodeFailed;
                }

                handle = primary;
                if (item != 0 && Failed(HeifNative.Thumbnail(primary, item, out handle), errors))
                {
                    return DecodeFailed;
                }

                if (Failed(HeifNative.DecodeImage(handle, out image, HeifNative.ColourspaceRgb, HeifNative.ChromaInterleavedRgba, 0), errors))
                {
                    return DecodeFailed;
                }

                var width = HeifNative.ImageWidth(image, HeifNative.ChannelInterleaved);
                var height = HeifNative.ImageHeight(image, HeifNative.ChannelInterleaved);
                var pixels = HeifNative.PlaneReadonly(image, HeifNative.ChannelInterleaved, out var stride);
                if (pixels is null || width <= 0 || height <= 0)
                {
                    errors.WriteLine("0|the picture decodes to nothing");
                    return DecodeFailed;
                }

                Span<byte> header = stackalloc byte[12];
                Magic.CopyTo(header);
                BinaryPrimitives.WriteInt32LittleEndian(header[4..], width);
                BinaryPrimitives.WriteInt32LittleEndian(header[8..], height);
                output.Write(header);
                for (var y = 0; y < height; y++)
                {
                    output.Write(new ReadOnlySpan<byte>(pixels + (long)y * stride, 4 * width));
                }

                output.Flush();
                return 0;
            }
        }
        finally
        {
            if (image != 0)
            {
                HeifNative.ImageRelease(image);
            }

            if (handle != 0 && handle != primary)
            {
                HeifNative.HandleRelease(handle);
            }

            if (primary != 0)
            {
                HeifNative.HandleRelease(primary);
            }

            HeifNative.ContextFree(context);
        }
    }

    private static bool Failed(HeifNative.Error error, TextWriter errors)
    {
        if (error.Failed)
        {
            errors.WriteLine($"{error.Code}|{error.Text}");
        }

        return error.Failed;
    }
}

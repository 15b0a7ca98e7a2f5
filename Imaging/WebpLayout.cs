using System.Buffers.Binary;

namespace ThumbnailApi.Imaging;

/// <summary>
/// What a WebP's chunks say about decoding memory. libwebp decodes a lossy picture a few rows at a
/// time, scaled as it goes; a lossless picture (VP8L, also inside an animation frame) is decoded whole
/// at 4 bytes a pixel, and a separate alpha plane (ALPH) adds a byte a pixel.
/// </summary>
internal static class WebpLayout
{
    private const int MaxChunks = 1000;

    public static long DecoderBytes(EncodedInput input, int width, int height)
    {
        var pixels = (long)width * height;
        var (lossless, alpha) = Chunks(input);
        return (lossless ? 4 * pixels : 16L * 4 * 3 * width) + (alpha ? pixels : 0);
    }

    /// <summary>Walks the RIFF chunks (and the first animation frame's) for VP8L and ALPH.</summary>
    private static unsafe (bool Lossless, bool Alpha) Chunks(EncodedInput input)
    {
        var bytes = new ReadOnlySpan<byte>(input.Pointer, (int)input.Length);
        bool lossless = false, alpha = false;
        var at = 12;
        for (var i = 0; i < MaxChunks && at + 8 <= bytes.Length; i++)
        {
            var kind = bytes.Slice(at, 4);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(at + 4)..]);
            lossless |= kind.SequenceEqual("VP8L"u8);
            alpha |= kind.SequenceEqual("ALPH"u8);
            if (kind.SequenceEqual("ANMF"u8))
            {
                at += 8 + 16; // into the frame: its header, then its own image chunks
                continue;
            }

            if (size > (uint)(bytes.Length - at - 8))
            {
                break;
            }

            at += 8 + (int)size + (int)(size & 1);
        }

        return (lossless, alpha);
    }
}

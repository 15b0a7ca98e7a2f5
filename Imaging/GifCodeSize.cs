namespace ThumbnailApi.Imaging;

/// <summary>
/// A GIF frame's LZW data starts with its minimum code size, which the GIF specification puts at
/// 2–8. Some encoders write 1 (two-colour pictures) or 9–11; Pillow, libvips (libnsgif) and Firefox
/// display those files, but Skia refuses them as damaged ("ErrorInInput"). For such a file the first
/// frame is decoded here, by the rules Pillow follows, and written again with code size 8, so that
/// Skia reads it as any other GIF (composition on the screen, transparency, interlacing). Only the
/// first frame becomes the thumbnail, so the frames after it are left out. The same rewrite is the
/// fallback for any other GIF Skia refuses whose first frame still decodes whole by Pillow's rules.
/// </summary>
internal static class GifCodeSize
{
    /// <summary>
    /// Largest frame rewritten: the rewrite holds the frame's pixels and the new file, about 2.1 bytes a
    /// pixel, outside the memory estimate; at 4 MP that stays within its fixed allowance. A bigger frame
    /// with an odd code size is left to Skia, which refuses it as damaged.
    /// </summary>
    public const long MaxRewrittenPixels = 4_000_000;

    /// <summary>
    /// <paramref name="input"/> itself, or — for a GIF whose first frame has a code size Skia does not
    /// read and whose data decodes whole — a rewritten copy (<paramref name="input"/> is then disposed).
    /// A frame whose data breaks off or cannot be decoded is left as it is: Skia reports it as damaged.
    /// </summary>
    public static EncodedInput Normalise(EncodedInput input)
    {
        if (FirstFrameOf(input) is not { CodeSize: < 2 or > 8 } frame || Rewrite(input, frame, MaxRewrittenPixels) is not { } rewritten)
        {
            return input;
        }

        input.Dispose();
        return rewritten;
    }

    /// <summary>
    /// A copy of the GIF in <paramref name="input"/> with its first frame decoded by Pillow's rules and
    /// written again with code size 8, for a file Skia refused although that frame decodes whole; null
    /// when it does not, or when the frame has more than <paramref name="maxPixels"/> pixels.
    /// </summary>
    public static EncodedInput? RewriteFirstFrame(EncodedInput input, long maxPixels) =>
        FirstFrameOf(input) is { } frame ? Rewrite(input, frame, maxPixels) : null;

    private static Frame? FirstFrameOf(EncodedInput input) =>
        input.Length <= int.MaxValue && FormatSniffer.Sniff(input.Head(FormatSniffer.BytesNeeded)) == ImageFormat.Gif
            ? FirstFrame(input.Head((int)input.Length))
            : null;

    private static EncodedInput? Rewrite(EncodedInput input, Frame frame, long maxPixels)
    {
        if (frame.CodeSize is < 1 or > GifLzw.MaxCodeSize || (long)frame.Width * frame.Height is 0 || (long)frame.Width * frame.Height > maxPixels)
        {
            return null;
        }

        var gif = input.Head((int)input.Length);
        var pixels = new byte[frame.Width * frame.Height];
        if (!GifLzw.Decode(gif[(frame.CodeSizeAt + 1)..], frame.CodeSize, pixels))
        {
            return null;
        }

        using var rewritten = new MemoryStream(frame.CodeSizeAt + pixels.Length * 9 / 8 + pixels.Length / 200 + 64);
        rewritten.Write(gif[..frame.CodeSizeAt]);
        GifLzw.EncodeLiterals(pixels, rewritten);
        rewritten.WriteByte(Trailer);
        rewritten.Position = 0;
        return EncodedInput.From(rewritten);
    }

    private const byte ExtensionIntroducer = 0x21;
    private const byte ImageSeparator = 0x2C;
    private const byte Trailer = 0x3B;

    /// <summary>Where the first image descriptor's LZW code size byte is, its value and the frame's size; null when there is no frame.</summary>
    private static Frame? FirstFrame(ReadOnlySpan<byte> gif)
    {
        const int ScreenDescriptorEnd = 13;
        if (gif.Length < ScreenDescriptorEnd)
        {
            return null;
        }

        var at = ScreenDescriptorEnd + ColourTableBytes(gif[10]);
        while (at < gif.Length)
        {
            switch (gif[at])
            {
                case ExtensionIntroducer:
                    at = AfterSubBlocks(gif, at + 2);
                    break;
                case ImageSeparator when at + 10 < gif.Length:
                    var codeSizeAt = at + 10 + ColourTableBytes(gif[at + 9]);
                    return codeSizeAt < gif.Length
                        ? new Frame(codeSizeAt, gif[codeSizeAt], gif[at + 5] | (gif[at + 6] << 8), gif[at + 7] | (gif[at + 8] << 8))
                        : null;
                default:
                    return null;
            }
        }

        return null;
    }

    private static int ColourTableBytes(byte flags) => (flags & 0x80) != 0 ? 3 << ((flags & 7) + 1) : 0;

    /// <summary>The position after the sub-blocks starting at <paramref name="at"/> and their zero-length terminator.</summary>
    private static int AfterSubBlocks(ReadOnlySpan<byte> gif, int at)
    {
        while (at < gif.Length && gif[at] != 0)
        {
            at += gif[at] + 1;
        }

        return at + 1;
    }

    private readonly record struct Frame(int CodeSizeAt, int CodeSize, int Width, int Height);
}

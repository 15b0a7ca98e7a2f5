using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>
/// A bitmap whose pixels live in a kept native block (<see cref="NativeBlocks"/>) rather than in
/// memory Skia allocates and frees itself: a whole decoded picture (GIF, WebP, big PNG) is
/// megabytes, whose fresh pages would fault in one by one on every decode. The block is zeroed
/// first, as Skia's own allocation is: a decoder leaves transparent what a picture does not cover
/// (a GIF frame smaller than its canvas, a file cut short), and an earlier upload's pixels must
/// never show through there.
/// </summary>
internal static unsafe class KeptBitmap
{
    /// <summary>Called by Skia when the bitmap lets go of its pixels: the block goes back to be kept.</summary>
    private static readonly SKBitmapReleaseDelegate GiveBack = (_, block) => NativeBlocks.Shared.Return((NativeBlocks.Block)block);

    public static SKBitmap Create(SKImageInfo info)
    {
        var block = NativeBlocks.Shared.Rent(info.BytesSize64, zeroed: true);
        var bitmap = new SKBitmap();
        if (!bitmap.InstallPixels(info, (IntPtr)block.Pointer, info.RowBytes, GiveBack, block))
        {
            // Skia calls the release delegate itself when it refuses the pixels.
            bitmap.Dispose();
            throw new InvalidOperationException($"Skia refused {info.Width}×{info.Height} pixels of {info.ColorType}");
        }

        return bitmap;
    }
}

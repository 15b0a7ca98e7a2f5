using SkiaSharp;
using ThumbnailApi.Imaging;

namespace ThumbnailApi.Tests.Support;

/// <summary>The imaging pipeline in-process (no HTTP, no database): a corpus file in, a thumbnail out.</summary>
public static class Thumbnails
{
    private static readonly ThumbnailPipeline Pipeline = new(new ImagingLimits());

    public static EncodedThumbnail Encode(string file, ThumbnailSpec? spec = null) =>
        Pipeline.Create(File.OpenRead(TestImages.Path(file)), spec ?? ThumbnailSpec.Default);

    public static EncodedThumbnail Encode(byte[] bytes, ThumbnailSpec? spec = null) =>
        Pipeline.Create(new MemoryStream(bytes, writable: false), spec ?? ThumbnailSpec.Default);

    /// <summary>The thumbnail of a corpus file, decoded back into unpremultiplied RGBA.</summary>
    public static SKBitmap Of(string file, ThumbnailSpec? spec = null) => Decode(Encode(file, spec));

    public static SKBitmap Decode(EncodedThumbnail thumbnail)
    {
        using var codec = SKCodec.Create(new MemoryStream(thumbnail.Bytes))
            ?? throw new AssertionException($"The {thumbnail.ContentType} thumbnail does not decode.");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        Assert.That(result, Is.EqualTo(SKCodecResult.Success), "decoding the thumbnail");
        return bitmap;
    }

    /// <summary>The rejection the pipeline answers a corpus file with; fails when it makes a thumbnail instead.</summary>
    public static ImageRejectedException RejectionOf(string file, ThumbnailSpec? spec = null)
    {
        try
        {
            var thumbnail = Encode(file, spec);
            throw new AssertionException($"{file} was expected to be refused but gave a {thumbnail.Width}×{thumbnail.Height} thumbnail.");
        }
        catch (ImageRejectedException rejected)
        {
            return rejected;
        }
    }

    /// <summary>The rejection the pipeline answers <paramref name="bytes"/> with; fails when it makes a thumbnail instead.</summary>
    public static ImageRejectedException RejectionOf(byte[] bytes, ThumbnailSpec? spec = null, ImagingLimits? limits = null)
    {
        try
        {
            var thumbnail = limits is null
                ? Encode(bytes, spec)
                : new ThumbnailPipeline(limits).Create(new MemoryStream(bytes, writable: false), spec ?? ThumbnailSpec.Default);
            throw new AssertionException($"The bytes were expected to be refused but gave a {thumbnail.Width}×{thumbnail.Height} thumbnail.");
        }
        catch (ImageRejectedException rejected)
        {
            return rejected;
        }
    }

    /// <summary>The colour of the 5×5 box at fractions (<paramref name="fx"/>, <paramref name="fy"/>) of the bitmap.</summary>
    public static SKColor Sample(SKBitmap bitmap, double fx, double fy) =>
        Pixels.AverageAround(bitmap, (int)(fx * bitmap.Width), (int)(fy * bitmap.Height), radius: 2);
}

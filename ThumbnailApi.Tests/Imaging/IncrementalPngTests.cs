using SkiaSharp;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests.Imaging;

/// <summary>
/// Big PNGs are decoded a slice of the file at a time (DecoderStream's read allowance), and the size
/// of a slice depends on how fast the previous one went, so where a slice ends differs from run to
/// run. Wherever it ends, the picture must come out whole: Skia's PNG codec loses the bytes of a read
/// the stream cuts short (its 8-byte reads of a chunk's length and type, for one), so a slice never
/// cuts a read (seen as a 100 MP PNG failing "the file ends before the picture does" in a full test
/// run on a busy machine).
/// </summary>
[TestFixture]
public sealed class IncrementalPngTests
{
    /// <summary>Slice sizes that each lost bytes of this file before the fix (the service's own are multiples of 16 KB, whose ends move with the timing).</summary>
    [TestCase(58)]
    [TestCase(1000)]
    [TestCase(6982)]
    [TestCase(9973)]
    [TestCase(12964)]
    public void A_PNG_decoded_in_slices_that_end_anywhere_comes_out_whole_and_the_same_as_in_one_call(int step)
    {
        var file = TestImages.Bytes("hostile/resources/png-10000x10000-rgb.png"); // 100 MP in one 291 KB IDAT chunk

        var (result, pixels) = DecodeInSlices(file, step);
        var (_, whole) = DecodeInSlices(file, long.MaxValue);

        Assert.That(result, Is.EqualTo(SKCodecResult.Success));
        Assert.That(pixels, Is.EqualTo(whole), "the same pixels as decoded in one call");
    }

    /// <summary>Decodes the PNG incrementally, allowing <paramref name="step"/> more bytes before each call, as SkiaSource does; the result and a hash of the pixels.</summary>
    private static (SKCodecResult Result, string Pixels) DecodeInSlices(byte[] file, long step)
    {
        using var memory = new MemoryStream(file);
        using var input = EncodedInput.From(memory);
        using var stream = new DecoderStream(input, CancellationToken.None);
        using var codec = SKCodec.Create(stream);
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var bitmap = new SKBitmap(info);
        stream.AllowNext(step);
        var result = codec.StartIncrementalDecode(bitmap.Info, bitmap.GetPixels(), bitmap.RowBytes);
        var idle = 0;
        while (result is SKCodecResult.Success or SKCodecResult.IncompleteInput && idle < 3)
        {
            var before = stream.BytesRead;
            result = codec.IncrementalDecode();
            if (result == SKCodecResult.Success)
            {
                break;
            }

            idle = stream.BytesRead == before ? idle + 1 : 0;
            stream.AllowNext(step);
        }

        return (result, Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bitmap.GetPixelSpan())));
    }
}

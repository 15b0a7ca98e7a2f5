using BitMiracle.LibTiff.Classic;

namespace ThumbnailApi.Imaging;

/// <summary>
/// 8-bit CIE L*a*b* pages (Photometric 8), converted to sRGB here rather than by libtiff, whose
/// conversion skips the white-point adaptation (paper white comes out yellow) and uses a plain
/// power curve (shadows come out too dark). L*a*b* is relative to the page's WhitePoint tag (D50
/// when there is none, as Photoshop writes and libtiff assumes; ImageMagick writes D65 and says so);
/// it goes to XYZ, is adapted to D65 with the Bradford transform (white stays white, greys stay
/// grey), then to sRGB and its curve, as colour-managed viewers show it.
/// </summary>
internal static class TiffLab
{
    private static readonly double[] Bradford = [0.8951, 0.2664, -0.1614, -0.7502, 1.7135, 0.0367, 0.0389, -0.0685, 1.0296];

    private static readonly double[] BradfordInverse = [0.9869929, -0.1470543, 0.1599627, 0.4323053, 0.5183603, 0.0492912, -0.0085287, 0.0400428, 0.9684867];

    private static readonly double[] SrgbFromXyz = [3.2404542, -1.5371385, -0.4985314, -0.9692660, 1.8760108, 0.0415560, 0.0556434, -0.2040259, 1.0572252];

    private static readonly double[] D65 = [0.95047, 1, 1.08883];

    /// <summary>sRGB's transfer curve, from linear light in 1/4096 steps to 8 bits.</summary>
    private static readonly byte[] Encode = Enumerable.Range(0, 4097).Select(i =>
    {
        var linear = i / 4096.0;
        var encoded = linear <= 0.0031308 ? 12.92 * linear : 1.055 * Math.Pow(linear, 1 / 2.4) - 0.055;
        return (byte)Math.Round(Math.Clamp(encoded, 0, 1) * 255);
    }).ToArray();

    /// <summary>The routine for <paramref name="tiff"/>'s page, or null when it is not 8-bit CIE L*a*b*.</summary>
    public static TiffRgbaImage.PutContigDelegate? Put(Tiff tiff)
    {
        var photometric = (Photometric)(tiff.GetField(TiffTag.PHOTOMETRIC)?[0].ToInt() ?? -1);
        var bits = tiff.GetFieldDefaulted(TiffTag.BITSPERSAMPLE)?[0].ToInt() ?? 1;
        var samples = tiff.GetFieldDefaulted(TiffTag.SAMPLESPERPIXEL)?[0].ToInt() ?? 1;
        if (photometric != Photometric.CIELAB || bits != 8 || samples < 3)
        {
            return null;
        }

        var alpha = tiff.GetField(TiffTag.EXTRASAMPLES) is [_, var kinds, ..] && kinds.ToShortArray() is [var first, ..]
            ? (ExtraSample)first
            : ExtraSample.UNSPECIFIED;
        var hasAlpha = samples > 3 && alpha is ExtraSample.ASSOCALPHA or ExtraSample.UNASSALPHA;
        var white = PageWhite(tiff);
        var toSrgb = Multiply(SrgbFromXyz, Adaptation(white, D65));
        return (_, raster, rasterOffset, rasterShift, _, _, width, height, buffer, offset, bufferShift) =>
        {
            for (var row = 0; row < height; row++)
            {
                for (var i = 0; i < width; i++, offset += samples)
                {
                    var a = hasAlpha ? buffer[offset + 3] : 255;
                    if (alpha == ExtraSample.ASSOCALPHA && a is > 0 and < 255)
                    {
                        // Premultiplied L*a*b* is not meaningful colour; undo it before converting.
                        raster[rasterOffset++] = Pixel(white, toSrgb, buffer[offset] * 255 / a, (sbyte)buffer[offset + 1], (sbyte)buffer[offset + 2], a);
                    }
                    else
                    {
                        raster[rasterOffset++] = Pixel(white, toSrgb, buffer[offset], (sbyte)buffer[offset + 1], (sbyte)buffer[offset + 2], a);
                    }
                }

                rasterOffset += rasterShift;
                offset += bufferShift * samples;
            }
        };
    }

    /// <summary>One pixel, premultiplied RGBA packed as libtiff packs it (R in the low byte).</summary>
    private static int Pixel(double[] white, double[] toSrgb, int lightness, int a, int b, int alpha)
    {
        var l = Math.Min(lightness, 255) * 100.0 / 255;
        var fy = (l + 16) / 116;
        var x = white[0] * Inverse(fy + a / 500.0);
        var y = Inverse(fy);
        var z = white[2] * Inverse(fy - b / 200.0);
        var red = Channel(toSrgb[0] * x + toSrgb[1] * y + toSrgb[2] * z, alpha);
        var green = Channel(toSrgb[3] * x + toSrgb[4] * y + toSrgb[5] * z, alpha);
        var blue = Channel(toSrgb[6] * x + toSrgb[7] * y + toSrgb[8] * z, alpha);
        return red | green << 8 | blue << 16 | alpha << 24;
    }

    /// <summary>The XYZ (Y = 1) of the WhitePoint tag's chromaticity, D50 without one.</summary>
    private static double[] PageWhite(Tiff tiff)
    {
        var (x, y) = tiff.GetField(TiffTag.WHITEPOINT) is [var field, ..] && field.ToFloatArray() is [var wx, var wy, ..]
                     && wx > 0 && wy > 0 && wx + wy < 1
            ? ((double)wx, (double)wy)
            : (0.3457, 0.3585);
        return [x / y, 1, (1 - x - y) / y];
    }

    /// <summary>Bradford chromatic adaptation from white <paramref name="from"/> to white <paramref name="to"/>.</summary>
    private static double[] Adaptation(double[] from, double[] to)
    {
        var source = Apply(Bradford, from);
        var target = Apply(Bradford, to);
        double[] scale = [target[0] / source[0], 0, 0, 0, target[1] / source[1], 0, 0, 0, target[2] / source[2]];
        return Multiply(BradfordInverse, Multiply(scale, Bradford));
    }

    private static double[] Apply(double[] m, double[] v) =>
        [m[0] * v[0] + m[1] * v[1] + m[2] * v[2], m[3] * v[0] + m[4] * v[1] + m[5] * v[2], m[6] * v[0] + m[7] * v[1] + m[8] * v[2]];

    private static double[] Multiply(double[] a, double[] b)
    {
        var product = new double[9];
        for (var row = 0; row < 3; row++)
        {
            for (var column = 0; column < 3; column++)
            {
                product[row * 3 + column] = a[row * 3] * b[column] + a[row * 3 + 1] * b[3 + column] + a[row * 3 + 2] * b[6 + column];
            }
        }

        return product;
    }

    private static double Inverse(double f) => f > 6.0 / 29 ? f * f * f : 3 * (6.0 / 29) * (6.0 / 29) * (f - 4.0 / 29);

    private static int Channel(double linear, int alpha)
    {
        var encoded = Encode[(int)Math.Round(Math.Clamp(linear, 0, 1) * 4096)];
        return alpha == 255 ? encoded : (encoded * alpha + 127) / 255;
    }
}

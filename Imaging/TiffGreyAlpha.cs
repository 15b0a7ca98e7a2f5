using BitMiracle.LibTiff.Classic;

namespace ThumbnailApi.Imaging;

/// <summary>
/// Grey with an alpha channel, 8 or 16 bits a sample. LibTiff.NET's RGBA interface keeps the alpha
/// only of 8-bit grey with associated alpha and drops it otherwise (unassociated alpha, which
/// ImageMagick and GIMP write, and every 16-bit grey), so such pages get this "put" routine
/// instead: grey and alpha into premultiplied RGBA, as libtiff's routines for RGB do.
/// </summary>
internal static class TiffGreyAlpha
{
    /// <summary>The routine for <paramref name="tiff"/>'s page, or null when it is not grey with alpha at 8 or 16 bits.</summary>
    public static TiffRgbaImage.PutContigDelegate? Put(Tiff tiff)
    {
        var photometric = (Photometric)(tiff.GetField(TiffTag.PHOTOMETRIC)?[0].ToInt() ?? -1);
        var bits = tiff.GetFieldDefaulted(TiffTag.BITSPERSAMPLE)?[0].ToInt() ?? 1;
        var samples = tiff.GetFieldDefaulted(TiffTag.SAMPLESPERPIXEL)?[0].ToInt() ?? 1;
        if (photometric is not (Photometric.MINISBLACK or Photometric.MINISWHITE) || bits is not (8 or 16) || samples < 2
            || tiff.GetField(TiffTag.EXTRASAMPLES) is not [_, var kinds, ..]
            || kinds.ToShortArray() is not [var first, ..]
            || (ExtraSample)first is not (ExtraSample.ASSOCALPHA or ExtraSample.UNASSALPHA))
        {
            return null;
        }

        var white = photometric == Photometric.MINISWHITE;
        var premultiplied = (ExtraSample)first == ExtraSample.ASSOCALPHA;
        var sampleBytes = bits / 8;
        return (_, raster, rasterOffset, rasterShift, _, _, width, height, buffer, offset, bufferShift) =>
        {
            var pixelBytes = samples * sampleBytes;
            for (var row = 0; row < height; row++)
            {
                for (var i = 0; i < width; i++, offset += pixelBytes)
                {
                    var grey = Sample(buffer, offset, sampleBytes);
                    var alpha = Sample(buffer, offset + sampleBytes, sampleBytes);
                    if (white)
                    {
                        grey = (premultiplied ? alpha : 255) - grey;
                    }

                    if (!premultiplied)
                    {
                        grey = (grey * alpha + 127) / 255;
                    }

                    grey = Math.Min(grey, alpha);
                    raster[rasterOffset++] = grey | grey << 8 | grey << 16 | alpha << 24;
                }

                rasterOffset += rasterShift;
                offset += bufferShift * pixelBytes;
            }
        };
    }

    /// <summary>An 8-bit sample, or a 16-bit one (in the machine's byte order, as libtiff hands it over) scaled to 8 bits.</summary>
    private static int Sample(byte[] buffer, int offset, int sampleBytes) =>
        sampleBytes == 1 ? buffer[offset] : (BitConverter.ToUInt16(buffer, offset) + 128) / 257;
}

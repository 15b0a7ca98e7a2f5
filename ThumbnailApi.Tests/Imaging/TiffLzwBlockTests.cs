using BitMiracle.LibTiff.Classic;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests.Imaging;

/// <summary>
/// Our LZW decoder for TIFF blocks (TiffLzwBlock) must give exactly the bytes LibTiff.NET's codec gives,
/// block by block: for the LZW samples in test_images (written by libtiff's tiffcp), and for pictures
/// LibTiff.NET's own encoder writes here in every layout it handles (predictor or not, grey, palette,
/// 1 and 4 bits, planes apart, tiles, big-endian, noise long enough to fill the code table many
/// times). What it does not decode cleanly it leaves to LibTiff.NET.
/// </summary>
[TestFixture]
public sealed class TiffLzwBlockTests
{
    public static IEnumerable<TestCaseData> LzwSamples() =>
        Directory.EnumerateFiles(TestImages.Folder, "*.tif", SearchOption.AllDirectories)
            .Where(path => !path.Contains("hostile", StringComparison.Ordinal) && IsLzw(path))
            .Order(StringComparer.Ordinal)
            .Select(path => new TestCaseData(Path.GetRelativePath(TestImages.Folder, path)).SetArgDisplayNames(Path.GetRelativePath(TestImages.Folder, path)));

    [TestCaseSource(nameof(LzwSamples))]
    public void Every_block_of_an_LZW_sample_decodes_to_the_bytes_LibTiff_NET_gives(string sample)
    {
        using var tiff = Tiff.Open(TestImages.Path(sample), "r");

        var (ours, theirs) = CompareEveryBlock(tiff);

        if (TiffLzwBlock.Handles(tiff))
        {
            Assert.That(ours, Is.EqualTo(theirs), "every block was decoded by us, none left to LibTiff.NET");
        }
    }

    [Test]
    public void The_sample_kinds_include_the_layouts_our_decoder_takes()
    {
        var handled = LzwSamples().Select(c => (string)c.Arguments[0]!)
            .Count(sample => { using var tiff = Tiff.Open(TestImages.Path(sample), "r"); return TiffLzwBlock.Handles(tiff); });
        Assert.That(handled, Is.GreaterThanOrEqualTo(8), "tiled, strips, planar, predictor, RGBA, CMYK, multi-page and plain LZW samples are ours to decode");
    }

    public static IEnumerable<TestCaseData> Layouts()
    {
        yield return Layout("RGB, no predictor", 3, 8, Photometric.RGB, Predictor.NONE);
        yield return Layout("RGB, horizontal predictor", 3, 8, Photometric.RGB, Predictor.HORIZONTAL);
        yield return Layout("RGBA, horizontal predictor", 4, 8, Photometric.RGB, Predictor.HORIZONTAL);
        yield return Layout("grey, horizontal predictor", 1, 8, Photometric.MINISBLACK, Predictor.HORIZONTAL);
        yield return Layout("grey and 2 extra samples, horizontal predictor", 3, 8, Photometric.MINISBLACK, Predictor.HORIZONTAL, extraSamples: 2);
        yield return Layout("palette", 1, 8, Photometric.PALETTE, Predictor.NONE);
        yield return Layout("1-bit", 1, 1, Photometric.MINISWHITE, Predictor.NONE);
        yield return Layout("4-bit grey", 1, 4, Photometric.MINISBLACK, Predictor.NONE);
        yield return Layout("RGB in separate planes, horizontal predictor", 3, 8, Photometric.RGB, Predictor.HORIZONTAL, separate: true);
        yield return Layout("RGB in 48×32 tiles, horizontal predictor", 3, 8, Photometric.RGB, Predictor.HORIZONTAL, tile: 48);
        yield return Layout("RGB, big-endian file, horizontal predictor", 3, 8, Photometric.RGB, Predictor.HORIZONTAL, bigEndian: true);
        yield return Layout("RGB noise in one 700-row strip (the code table fills and clears many times)", 3, 8, Photometric.RGB, Predictor.NONE, rowsPerStrip: 700, noise: 1.0);
        yield return Layout("RGB, strips of 7 rows, the last one short", 3, 8, Photometric.RGB, Predictor.HORIZONTAL, rowsPerStrip: 7);
    }

    [TestCaseSource(nameof(Layouts))]
    public void LZW_written_by_LibTiff_NET_decodes_to_the_bytes_its_own_codec_gives(int samples, int bits, Photometric photometric, Predictor predictor,
                                                                                bool separate, int tile, bool bigEndian, int rowsPerStrip, double noise, int extraSamples)
    {
        using var folder = new TempDataFolder();
        var path = Path.Combine(folder.Path, "written.tif");
        Write(path, samples, bits, photometric, predictor, separate, tile, bigEndian, rowsPerStrip, noise, extraSamples);
        using var tiff = Tiff.Open(path, "r");
        Assert.That(TiffLzwBlock.Handles(tiff), Is.True);

        var (ours, theirs) = CompareEveryBlock(tiff);

        Assert.That(ours, Is.EqualTo(theirs).And.GreaterThan(0), "every block was decoded by us");
    }

    [Test]
    public void A_block_cut_short_is_left_to_LibTiff_NET()
    {
        using var folder = new TempDataFolder();
        using var tiff = Plain(folder, samples: 3, rowsPerStrip: 700, noise: 1.0, mode: "r");
        var raw = new byte[tiff.RawStripSize(0)];
        tiff.ReadRawStrip(0, raw, 0, raw.Length);
        var decoder = new TiffLzwBlock(tiff, raw.Length);
        var output = new byte[tiff.StripSize()];

        Assert.That(decoder.Decode(raw.AsSpan(0, raw.Length / 2), output), Is.LessThan(output.Length), "half the data fills less than the strip");
    }

    [Test]
    public void A_code_the_table_does_not_hold_yet_is_refused()
    {
        using var folder = new TempDataFolder();
        using var tiff = Plain(folder, samples: 1, rowsPerStrip: 8, noise: 0.0, mode: "r");
        var decoder = new TiffLzwBlock(tiff, 16);

        // 9-bit codes: clear (256), 'A' (65), then 300, which is past the next free code (258).
        Assert.That(decoder.Decode(Codes9(256, 65, 300), new byte[64]), Is.EqualTo(-1));
        Assert.That(decoder.Decode(Codes9(256, 258), new byte[64]), Is.EqualTo(-1), "a first code after a clear that is not a literal");
        Assert.That(decoder.Decode(Codes9(65, 66, 257), new byte[64]), Is.EqualTo(-1), "no clear code first (LibTiff.NET calls that corrupt)");
        Assert.That(decoder.Decode(Codes9(256, 65, 258, 257), new byte[64]), Is.EqualTo(3), "the code being defined (A, then AA) is taken");
    }

    [Test]
    public void Old_style_LZW_is_left_to_LibTiff_NET()
    {
        using var folder = new TempDataFolder();
        using var tiff = Plain(folder, samples: 1, rowsPerStrip: 8, noise: 0.0, mode: "a");
        var oldStyle = new byte[] { 0x00, 0x01, 0x02, 0x03 }; // libtiff's mark of the LSB-first "compat" coding
        tiff.WriteRawStrip(0, oldStyle, oldStyle.Length);
        tiff.RewriteDirectory();
        var decoder = new TiffLzwBlock(tiff, 64);

        Assert.That(decoder.TryDecode(tiff, 0, tiled: false, new byte[1024], 0, (int)tiff.VStripSize(8), tiff.ScanlineSize()), Is.False);
    }

    /// <summary>An 8-bit grey or RGB picture in strips without predictor, written and opened again with <paramref name="mode"/>.</summary>
    private static Tiff Plain(TempDataFolder folder, int samples, int rowsPerStrip, double noise, string mode)
    {
        var path = Path.Combine(folder.Path, "plain.tif");
        Write(path, samples, 8, samples == 1 ? Photometric.MINISBLACK : Photometric.RGB, Predictor.NONE, false, 0, false, rowsPerStrip, noise, 0);
        return Tiff.Open(path, mode);
    }

    /// <summary>Reads every block (plane, strip or tile) with LibTiff.NET and with our decoder; returns how many blocks we decoded, and how many there were.</summary>
    private static (int Ours, int Theirs) CompareEveryBlock(Tiff tiff)
    {
        var ours = 0;
        var theirs = 0;
        do
        {
            var tiled = tiff.IsTiled();
            var blocks = tiled ? tiff.NumberOfTiles() : tiff.NumberOfStrips();
            var largest = Enumerable.Range(0, blocks).Max(block => tiff.RawStripSize(block));
            var decoder = TiffLzwBlock.Handles(tiff) ? new TiffLzwBlock(tiff, largest) : null;
            var size = tiled ? tiff.TileSize() : tiff.StripSize();
            var rowBytes = tiled ? tiff.TileRowSize() : tiff.ScanlineSize();
            for (var block = 0; block < blocks; block++)
            {
                var expected = new byte[size];
                var count = tiled ? tiff.ReadEncodedTile(block, expected, 0, -1) : tiff.ReadEncodedStrip(block, expected, 0, -1);
                Assert.That(count, Is.GreaterThan(0), $"LibTiff.NET reads block {block}");
                theirs++;
                var actual = new byte[size];
                if (decoder?.TryDecode(tiff, block, tiled, actual, 0, count, rowBytes) == true)
                {
                    ours++;
                    Assert.That(actual.AsSpan(0, count).SequenceEqual(expected.AsSpan(0, count)), Is.True,
                        $"page {tiff.CurrentDirectory()}, {(tiled ? "tile" : "strip")} {block}: the same {count} bytes");
                }
            }
        }
        while (tiff.ReadDirectory());

        return (ours, theirs);
    }

    private static TestCaseData Layout(string name, int samples, int bits, Photometric photometric, Predictor predictor,
                                       bool separate = false, int tile = 0, bool bigEndian = false, int rowsPerStrip = 16, double noise = 0.15, int extraSamples = 0) =>
        new TestCaseData(samples, bits, photometric, predictor, separate, tile, bigEndian, rowsPerStrip, noise, extraSamples).SetArgDisplayNames(name);

    /// <summary>A 301×203 picture (gradients, a few shapes, some seeded noise) written with LibTiff.NET's LZW encoder.</summary>
    private static void Write(string path, int samples, int bits, Photometric photometric, Predictor predictor,
                              bool separate, int tile, bool bigEndian, int rowsPerStrip, double noise, int extraSamples)
    {
        const int width = 301;
        var height = noise >= 1 ? 700 : 203;
        using var tiff = Tiff.Open(path, bigEndian ? "wb" : "wl");
        tiff.SetField(TiffTag.IMAGEWIDTH, width);
        tiff.SetField(TiffTag.IMAGELENGTH, height);
        tiff.SetField(TiffTag.SAMPLESPERPIXEL, samples);
        tiff.SetField(TiffTag.BITSPERSAMPLE, bits);
        tiff.SetField(TiffTag.PHOTOMETRIC, photometric);
        tiff.SetField(TiffTag.COMPRESSION, Compression.LZW);
        tiff.SetField(TiffTag.PREDICTOR, predictor);
        tiff.SetField(TiffTag.PLANARCONFIG, separate ? PlanarConfig.SEPARATE : PlanarConfig.CONTIG);
        if (extraSamples > 0)
        {
            tiff.SetField(TiffTag.EXTRASAMPLES, extraSamples, Enumerable.Repeat((short)ExtraSample.UNSPECIFIED, extraSamples).ToArray());
        }
        else if (samples == 4)
        {
            tiff.SetField(TiffTag.EXTRASAMPLES, 1, new[] { (short)ExtraSample.UNASSALPHA });
        }

        if (photometric == Photometric.PALETTE)
        {
            var ramp = Enumerable.Range(0, 256).Select(i => (short)(i * 257)).ToArray();
            tiff.SetField(TiffTag.COLORMAP, ramp, ramp.Reverse().ToArray(), ramp);
        }

        var random = new Random(7);
        byte Sample(int x, int y, int s)
        {
            var value = (x * (s + 1) + y * (3 - s % 3) + ((x / 40 + y / 30) % 2 == 0 ? 60 : 0)) % 256;
            return (byte)(random.NextDouble() < noise ? random.Next(256) : value);
        }

        if (tile > 0)
        {
            tiff.SetField(TiffTag.TILEWIDTH, tile);
            tiff.SetField(TiffTag.TILELENGTH, tile * 2 / 3 / 16 * 16);
            var tileHeight = tiff.GetField(TiffTag.TILELENGTH)[0].ToInt();
            var buffer = new byte[tiff.TileSize()];
            for (var top = 0; top < height; top += tileHeight)
            {
                for (var left = 0; left < width; left += tile)
                {
                    for (var y = 0; y < tileHeight; y++)
                    {
                        for (var x = 0; x < tile; x++)
                        {
                            for (var s = 0; s < samples; s++)
                            {
                                buffer[(y * tile + x) * samples + s] = Sample(left + x, top + y, s);
                            }
                        }
                    }

                    tiff.WriteTile(buffer, left, top, 0, 0);
                }
            }

            return;
        }

        tiff.SetField(TiffTag.ROWSPERSTRIP, rowsPerStrip);
        var planes = separate ? samples : 1;
        var perRow = separate ? 1 : samples;
        var row = new byte[tiff.ScanlineSize()];
        for (var plane = 0; plane < planes; plane++)
        {
            for (var y = 0; y < height; y++)
            {
                Array.Clear(row);
                for (var x = 0; x < width; x++)
                {
                    for (var s = 0; s < perRow; s++)
                    {
                        var value = Sample(x, y, separate ? plane : s);
                        if (bits == 8)
                        {
                            row[x * perRow + s] = value;
                        }
                        else
                        {
                            var bit = x * bits;
                            row[bit / 8] |= (byte)((value >> (8 - bits)) << (8 - bits - bit % 8));
                        }
                    }
                }

                tiff.WriteScanline(row, y, (short)plane);
            }
        }
    }

    /// <summary>9-bit LZW codes packed MSB-first.</summary>
    private static byte[] Codes9(params int[] codes)
    {
        var bytes = new byte[(codes.Length * 9 + 7) / 8 + 1];
        var bit = 0;
        foreach (var code in codes)
        {
            for (var i = 8; i >= 0; i--, bit++)
            {
                if (((code >> i) & 1) != 0)
                {
                    bytes[bit / 8] |= (byte)(0x80 >> (bit % 8));
                }
            }
        }

        return bytes;
    }

    private static bool IsLzw(string path)
    {
        using var tiff = Tiff.Open(path, "r");
        return tiff is not null && (Compression)(tiff.GetFieldDefaulted(TiffTag.COMPRESSION)?[0].ToInt() ?? 1) == Compression.LZW;
    }
}

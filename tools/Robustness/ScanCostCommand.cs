using System.Buffers.Binary;
using System.Diagnostics;
using ThumbnailApi.Imaging;

namespace ThumbnailApi.Robustness;

/// <summary>
/// What a hostile progressive JPEG costs: builds a grey progressive JPEG of the given size with one
/// DC scan and many repeated AC scans (the file make_hostile_images.py writes, at any size), runs it
/// through the pipeline once with the given scan limit, and prints file size, outcome, time, CPU
/// and peak memory. Run once per process (tools/jpeg-scan-cost.sh), so the peak is this case's own.
/// </summary>
public static class ScanCostCommand
{
    public static int Run(Arguments arguments)
    {
        var width = arguments.Number("width", 4096);
        var height = arguments.Number("height", 4096);
        var scans = arguments.Number("scans", 5000);
        var limits = new ImagingLimits { MaxJpegScans = arguments.Number("max-scans", new ImagingLimits().MaxJpegScans) };
        var file = ProgressiveScans(width, height, scans);

        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        string outcome;
        try
        {
            var thumbnail = new ThumbnailPipeline(limits).Create(new MemoryStream(file), ThumbnailSpec.Default);
            outcome = $"thumbnail {thumbnail.Width}x{thumbnail.Height}";
        }
        catch (ImageRejectedException rejection)
        {
            outcome = rejection.Code;
        }

        clock.Stop();
        process.Refresh();
        Console.WriteLine($"{width}x{height}, {scans + 1} scans, {file.Length / 1024.0:F0} KB, MaxJpegScans {limits.MaxJpegScans}: " +
                          $"{outcome} in {clock.Elapsed.TotalMilliseconds:F0} ms, CPU {(process.TotalProcessorTime - cpu).TotalMilliseconds:F0} ms, " +
                          $"peak RSS {process.PeakWorkingSet64 / (1024 * 1024)} MB");
        return 0;
    }

    /// <summary>The same bytes as make_hostile_images.py's progressive_scans_jpeg.</summary>
    private static byte[] ProgressiveScans(int width, int height, int scans)
    {
        var blocks = (long)((width + 7) / 8) * ((height + 7) / 8);
        var output = new MemoryStream();
        output.Write([0xFF, 0xD8]);
        Segment(output, 0xDB, [0x00, .. Enumerable.Repeat((byte)1, 64)]);
        var size = new byte[5];
        size[0] = 8;
        BinaryPrimitives.WriteUInt16BigEndian(size.AsSpan(1), (ushort)height);
        BinaryPrimitives.WriteUInt16BigEndian(size.AsSpan(3), (ushort)width);
        Segment(output, 0xC2, [.. size, 1, 1, 0x11, 0]);
        byte[] oneCode = [1, .. new byte[15]];
        Segment(output, 0xC4, [0x00, .. oneCode, 0x00, 0x10, .. oneCode, 0xE0]);

        var dc = new BitWriter();
        for (long i = 0; i < blocks; i++)
        {
            dc.Put(0, 1);
        }

        Segment(output, 0xDA, [1, 1, 0x00, 0, 0, 0]);
        output.Write(dc.Finish());

        var ac = new BitWriter();
        for (long i = 0; i < (blocks + 32766) / 32767; i++)
        {
            ac.Put(0, 1);
            ac.Put(32767 - 16384, 14);
        }

        var acScan = new MemoryStream();
        Segment(acScan, 0xDA, [1, 1, 0x00, 1, 63, 0]);
        acScan.Write(ac.Finish());
        for (var i = 0; i < scans; i++)
        {
            acScan.WriteTo(output);
        }

        output.Write([0xFF, 0xD9]);
        return output.ToArray();
    }

    private static void Segment(Stream output, byte marker, byte[] payload)
    {
        output.Write([0xFF, marker, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2)]);
        output.Write(payload);
    }

    private sealed class BitWriter
    {
        private readonly MemoryStream _bytes = new();
        private int _accumulator;
        private int _bits;

        public void Put(int value, int count)
        {
            for (var i = count - 1; i >= 0; i--)
            {
                _accumulator = (_accumulator << 1) | ((value >> i) & 1);
                if (++_bits == 8)
                {
                    _bytes.WriteByte((byte)_accumulator);
                    if (_accumulator == 0xFF)
                    {
                        _bytes.WriteByte(0);
                    }

                    _accumulator = 0;
                    _bits = 0;
                }
            }
        }

        public byte[] Finish()
        {
            if (_bits > 0)
            {
                Put((1 << (8 - _bits)) - 1, 8 - _bits);
            }

            return _bytes.ToArray();
        }
    }
}

using System.Buffers;
using System.Runtime.Intrinsics;
using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>
/// Step 6: crop and resize with a separable Lanczos-3 filter whose support widens with the reduction,
/// so the residual reduction after the box shrink neither aliases nor blurs (as libvips' reduce).
/// Works on premultiplied RGBA so transparent pixels do not bleed colour into their neighbours.
/// </summary>
public static class Resample
{
    private const double Lobes = 3;

    /// <summary>Renders <see cref="ResizePlan.Region"/> of the picture at <see cref="ResizePlan.Content"/> size.</summary>
    public static SKBitmap ToPlan(ScaledBitmap picture, ResizePlan plan, CancellationToken cancellation)
    {
        var region = plan.Region;
        var x = region.Left * picture.ScaleX;
        var y = region.Top * picture.ScaleY;
        var width = region.Width * picture.ScaleX;
        var height = region.Height * picture.ScaleY;
        return Lanczos(picture.Bitmap, x, y, width, height, plan.Content.Width, plan.Content.Height, cancellation);
    }

    public static unsafe SKBitmap Lanczos(SKBitmap source, double x, double y, double width, double height,
                                          int outWidth, int outHeight, CancellationToken cancellation)
    {
        var columns = Contributions.For(x, width, outWidth, source.Width);
        var rows = Contributions.For(y, height, outHeight, source.Height);

        // Horizontal pass over just the source rows the vertical pass will read, one pixel's four
        // channels per vector: the 4 × float of a pixel is one Vector128.
        var firstRow = rows.Lowest;
        var rowCount = rows.Highest - firstRow + 1;
        var horizontal = ArrayPool<Vector128<float>>.Shared.Rent(rowCount * outWidth);
        var result = new SKBitmap(SourceImage.WorkingInfo(outWidth, outHeight));
        try
        {
            var pixels = (byte*)source.GetPixels();
            fixed (Vector128<float>* buffer = horizontal)
            {
                for (var r = 0; r < rowCount; r++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    var line = (uint*)(pixels + (long)(firstRow + r) * source.RowBytes);
                    var output = buffer + r * outWidth;
                    for (var ox = 0; ox < outWidth; ox++)
                    {
                        var weights = columns.Weights(ox);
                        var taps = columns.Sources(ox);
                        var sum = Vector128<float>.Zero;
                        for (var i = 0; i < weights.Length; i++)
                        {
                            sum += ToFloats(line[taps[i]]) * weights[i];
                        }

                        output[ox] = sum;
                    }
                }

                var target = (byte*)result.GetPixels();
                for (var oy = 0; oy < outHeight; oy++)
                {
                    var weights = rows.Weights(oy);
                    var taps = rows.Sources(oy);
                    var line = (uint*)(target + (long)oy * result.RowBytes);
                    for (var ox = 0; ox < outWidth; ox++)
                    {
                        var sum = Vector128<float>.Zero;
                        for (var i = 0; i < weights.Length; i++)
                        {
                            sum += buffer[(taps[i] - firstRow) * outWidth + ox] * weights[i];
                        }

                        line[ox] = ToPixel(sum);
                    }
                }
            }

            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
        finally
        {
            ArrayPool<Vector128<float>>.Shared.Return(horizontal);
        }
    }

    /// <summary>The four 8-bit channels of a pixel as floats.</summary>
    private static Vector128<float> ToFloats(uint pixel)
    {
        var bytes = Vector128.CreateScalarUnsafe(pixel).AsByte();
        return Vector128.ConvertToSingle(Vector128.WidenLower(Vector128.WidenLower(bytes)).AsInt32());
    }

    /// <summary>
    /// Rounds and clamps to 0–255; Lanczos overshoots at hard edges, and premultiplied colour must
    /// also stay within alpha.
    /// </summary>
    private static uint ToPixel(Vector128<float> sum)
    {
        var rounded = Vector128.ConvertToInt32(Vector128.Min(Vector128.Max(sum + Vector128.Create(0.5f), Vector128<float>.Zero), Vector128.Create(255f)));
        var alpha = rounded.GetElement(3);
        var clamped = Vector128.Min(rounded, Vector128.Create(alpha, alpha, alpha, 255));
        return (uint)clamped.GetElement(0) | ((uint)clamped.GetElement(1) << 8) | ((uint)clamped.GetElement(2) << 16) | ((uint)alpha << 24);
    }

    private static double Kernel(double t)
    {
        t = Math.Abs(t);
        if (t < 1e-9)
        {
            return 1;
        }

        if (t >= Lobes)
        {
            return 0;
        }

        var pt = Math.PI * t;
        return Lobes * Math.Sin(pt) * Math.Sin(pt / Lobes) / (pt * pt);
    }

    /// <summary>Which source pixels, with which weights, make each output pixel along one axis.</summary>
    private sealed class Contributions
    {
        private readonly float[] _weights;
        private readonly int[] _sources;
        private readonly int _taps;
        private readonly int _limit;

        private Contributions(int outputs, int taps, int limit)
        {
            _taps = taps;
            _limit = limit;
            _weights = new float[outputs * taps];
            _sources = new int[outputs * taps];
            Count = new int[outputs];
        }

        public int[] Count { get; }

        public int Lowest { get; private set; } = int.MaxValue;

        public int Highest { get; private set; } = int.MinValue;

        public ReadOnlySpan<float> Weights(int output) => _weights.AsSpan(output * _taps, Count[output]);

        /// <summary>The source pixel of each weight, edges extended.</summary>
        public ReadOnlySpan<int> Sources(int output) => _sources.AsSpan(output * _taps, Count[output]);

        /// <summary>Source index, edges extended.</summary>
        public int Index(int position) => Math.Clamp(position, 0, _limit - 1);

        public static Contributions For(double origin, double length, int outputs, int sourceSize)
        {
            var scale = outputs / length;
            var filterScale = Math.Min(scale, 1.0);
            var radius = Lobes / filterScale;
            var taps = (int)Math.Ceiling(radius * 2) + 2;
            var table = new Contributions(outputs, taps, sourceSize);
            for (var o = 0; o < outputs; o++)
            {
                var centre = origin + (o + 0.5) / scale;
                var first = (int)Math.Floor(centre - radius);
                var last = Math.Min((int)Math.Ceiling(centre + radius), first + taps - 1);
                var span = table._weights.AsSpan(o * taps, taps);
                double total = 0;
                var count = 0;
                var sources = table._sources.AsSpan(o * taps, taps);
                for (var i = first; i <= last; i++)
                {
                    var weight = Kernel((i + 0.5 - centre) * filterScale);
                    sources[count] = table.Index(i);
                    span[count++] = (float)weight;
                    total += weight;
                }

                for (var i = 0; i < count; i++)
                {
                    span[i] = (float)(span[i] / total);
                }

                table.Count[o] = count;
                table.Lowest = Math.Min(table.Lowest, table.Index(first));
                table.Highest = Math.Max(table.Highest, table.Index(last));
            }

            return table;
        }
    }
}

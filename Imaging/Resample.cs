using System.Buffers;
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

        // Horizontal pass over just the source rows the vertical pass will read.
        var firstRow = rows.Lowest;
        var rowCount = rows.Highest - firstRow + 1;
        var stride = outWidth * 4;
        var horizontal = ArrayPool<float>.Shared.Rent(rowCount * stride);
        var result = new SKBitmap(SourceImage.WorkingInfo(outWidth, outHeight));
        try
        {
            var pixels = (byte*)source.GetPixels();
            for (var r = 0; r < rowCount; r++)
            {
                cancellation.ThrowIfCancellationRequested();
                var line = pixels + (long)(firstRow + r) * source.RowBytes;
                var output = horizontal.AsSpan(r * stride, stride);
                for (var ox = 0; ox < outWidth; ox++)
                {
                    float cr = 0, cg = 0, cb = 0, ca = 0;
                    var weights = columns.Weights(ox);
                    var start = columns.Start[ox];
                    for (var i = 0; i < weights.Length; i++)
                    {
                        var p = line + columns.Index(start + i) * 4;
                        var w = weights[i];
                        cr += p[0] * w;
                        cg += p[1] * w;
                        cb += p[2] * w;
                        ca += p[3] * w;
                    }

                    output[ox * 4] = cr;
                    output[ox * 4 + 1] = cg;
                    output[ox * 4 + 2] = cb;
                    output[ox * 4 + 3] = ca;
                }
            }

            var target = (byte*)result.GetPixels();
            for (var oy = 0; oy < outHeight; oy++)
            {
                var weights = rows.Weights(oy);
                var start = rows.Start[oy];
                var line = target + (long)oy * result.RowBytes;
                for (var ox = 0; ox < stride; ox += 4)
                {
                    float cr = 0, cg = 0, cb = 0, ca = 0;
                    for (var i = 0; i < weights.Length; i++)
                    {
                        var offset = (rows.Index(start + i) - firstRow) * stride + ox;
                        var w = weights[i];
                        cr += horizontal[offset] * w;
                        cg += horizontal[offset + 1] * w;
                        cb += horizontal[offset + 2] * w;
                        ca += horizontal[offset + 3] * w;
                    }

                    // Lanczos overshoots at hard edges: clamp, and keep colour within alpha (premultiplied).
                    var alpha = ToByte(ca);
                    line[ox] = Math.Min(ToByte(cr), alpha);
                    line[ox + 1] = Math.Min(ToByte(cg), alpha);
                    line[ox + 2] = Math.Min(ToByte(cb), alpha);
                    line[ox + 3] = alpha;
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
            ArrayPool<float>.Shared.Return(horizontal);
        }
    }

    private static byte ToByte(float value) => (byte)Math.Clamp((int)(value + 0.5f), 0, 255);

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
        private readonly int _taps;
        private readonly int _limit;

        private Contributions(int outputs, int taps, int limit)
        {
            _taps = taps;
            _limit = limit;
            _weights = new float[outputs * taps];
            Start = new int[outputs];
            Count = new int[outputs];
        }

        public int[] Start { get; }

        public int[] Count { get; }

        public int Lowest { get; private set; } = int.MaxValue;

        public int Highest { get; private set; } = int.MinValue;

        public ReadOnlySpan<float> Weights(int output) => _weights.AsSpan(output * _taps, Count[output]);

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
                for (var i = first; i <= last; i++)
                {
                    var weight = Kernel((i + 0.5 - centre) * filterScale);
                    span[count++] = (float)weight;
                    total += weight;
                }

                for (var i = 0; i < count; i++)
                {
                    span[i] = (float)(span[i] / total);
                }

                table.Start[o] = first;
                table.Count[o] = count;
                table.Lowest = Math.Min(table.Lowest, table.Index(first));
                table.Highest = Math.Max(table.Highest, table.Index(last));
            }

            return table;
        }
    }
}

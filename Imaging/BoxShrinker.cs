using System.Runtime.Intrinsics;
using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>
/// Step 3b: an integer box (area-average) reduction fed row by row while the picture decodes, so a
/// large image is never held in memory at full size. A factor of 1 × 1 just copies. Rows may arrive top-down or bottom-up; rows of
/// one output row must arrive together, which every scanline order does. Works on premultiplied
/// RGBA8888, so averaging treats transparency correctly.
/// </summary>
internal sealed class BoxShrinker : IDisposable
{
    /// <summary>
    /// Largest factor on each axis: a box of 4096 × 4096 pixels of 255 still sums within a
    /// <see cref="uint"/> (255 × 4096² &lt; 2³²).
    /// </summary>
    public const int MaxFactor = 4096;

    private readonly int _sourceWidth;
    private readonly int _factorX;
    private readonly int _factorY;
    private readonly double _inputScaleX;
    private readonly double _inputScaleY;
    private readonly uint[] _sums;
    private readonly SKBitmap _output;
    private int _group = -1;
    private int _rowsInGroup;
    private bool _finished;

    /// <param name="inputScaleX">Pixels of the rows fed in per original pixel (below 1 after a scaled decode).</param>
    public BoxShrinker(int sourceWidth, int sourceHeight, int factorX, int factorY, double inputScaleX = 1, double inputScaleY = 1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(factorX, MaxFactor);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(factorY, MaxFactor);
        _inputScaleX = inputScaleX;
        _inputScaleY = inputScaleY;
        _sourceWidth = sourceWidth;
        _factorX = factorX;
        _factorY = factorY;
        var width = (sourceWidth + factorX - 1) / factorX;
        var height = (sourceHeight + factorY - 1) / factorY;
        _sums = new uint[width * 4];
        _output = new SKBitmap(SourceImage.WorkingInfo(width, height));
    }

    /// <summary>Adds one decoded source row (RGBA8888 premultiplied, at least width × 4 bytes).</summary>
    public unsafe void AddRow(int y, ReadOnlySpan<byte> row)
    {
        if (_factorX == 1 && _factorY == 1)
        {
            row[..(_sourceWidth * 4)].CopyTo(new Span<byte>((byte*)_output.GetPixels() + (long)y * _output.RowBytes, _sourceWidth * 4));
            return;
        }

        var group = y / _factorY;
        if (group != _group)
        {
            FlushGroup();
            _group = group;
        }

        // One pixel's four channels at a time, widened to 32-bit lanes of a vector.
        fixed (byte* source = row)
        fixed (uint* sums = _sums)
        {
            var pixel = (uint*)source;
            var sum = sums;
            for (var x = 0; x < _sourceWidth; x += _factorX, sum += 4)
            {
                var end = Math.Min(_factorX, _sourceWidth - x);
                var total = Vector128<uint>.Zero;
                for (var i = 0; i < end; i++, pixel++)
                {
                    total += Vector128.WidenLower(Vector128.WidenLower(Vector128.CreateScalarUnsafe(*pixel).AsByte()));
                }

                Vector128.Store(Vector128.Load(sum) + total, sum);
            }
        }

        _rowsInGroup++;
    }

    /// <summary>The reduced picture. The shrinker gives up ownership of it.</summary>
    public ScaledBitmap Finish()
    {
        FlushGroup();
        _finished = true;
        return new ScaledBitmap(_output, _inputScaleX / _factorX, _inputScaleY / _factorY);
    }

    private unsafe void FlushGroup()
    {
        if (_rowsInGroup == 0)
        {
            return;
        }

        var destination = (byte*)_output.GetPixels() + (long)_group * _output.RowBytes;
        var width = _output.Width;
        fixed (uint* sums = _sums)
        {
            for (var gx = 0; gx < width; gx++)
            {
                var columns = (uint)Math.Min(_factorX, _sourceWidth - gx * _factorX);
                var count = columns * (uint)_rowsInGroup;
                var half = count / 2;
                var sum = sums + gx * 4;
                var pixel = destination + gx * 4;
                pixel[0] = (byte)((sum[0] + half) / count);
                pixel[1] = (byte)((sum[1] + half) / count);
                pixel[2] = (byte)((sum[2] + half) / count);
                pixel[3] = (byte)((sum[3] + half) / count);
            }
        }

        Array.Clear(_sums);
        _rowsInGroup = 0;
    }

    public void Dispose()
    {
        if (!_finished)
        {
            _output.Dispose();
        }
    }
}

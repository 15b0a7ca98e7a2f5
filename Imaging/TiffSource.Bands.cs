using System.Runtime.InteropServices;
using BitMiracle.LibTiff.Classic;

namespace ThumbnailApi.Imaging;

/// <summary>
/// TIFF readers. Both decode with LibTiff.NET (except JPEG blocks, which Skia decodes, and LZW blocks of
/// 8-bit samples, which <see cref="TiffLzwBlock"/> decodes) and convert with its RGBA interface's own "put"
/// routines (every photometric, bit depth and alpha variant libtiff knows), but read the blocks
/// themselves into buffers they keep: <see cref="BlockReader"/> a row of strips or tiles at a time,
/// <see cref="RowReader"/> a few rows at a time out of strips too big to hold. Rows come out top-down
/// as stored; orientation is applied later, like for every other format.
/// </summary>
internal sealed partial class TiffSource
{
    /// <summary>
    /// Reads bands first … first + count − 1, one per reader, on this thread and the thread pool.
    /// Every reader has finished before this returns or throws: the readers read memory that is
    /// released when this image is disposed.
    /// </summary>
    private static void ReadBands(List<BlockReader> readers, int first, int count, CancellationToken cancellation)
    {
        if (count == 1)
        {
            Guard(() => readers[0].Read(first, cancellation));
            return;
        }

        try
        {
            // The calling thread takes part, so the lanes never wait for the thread pool to grow.
            System.Threading.Tasks.Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = count },
                lane => Guard(() => readers[lane].Read(first + lane, cancellation)));
        }
        catch (AggregateException failure)
        {
            // Parallel.For returns only when every lane has stopped; report one lane's own rejection.
            var rejection = failure.InnerExceptions.OfType<ImageRejectedException>().FirstOrDefault()
                            ?? failure.InnerExceptions.OfType<OperationCanceledException>().FirstOrDefault()
                            ?? failure.InnerExceptions[0];
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(rejection);
        }
    }

    /// <summary>The RGBA converter for a reader, with its put routines (libtiff's RGBA interface, minus its reading).</summary>
    private static TiffRgbaImage Converter(Tiff tiff)
    {
        QuietErrorHandler.TakeLastError();
        var image = TiffRgbaImage.Create(tiff, stopOnError: true, out var why)
                    ?? throw TiffVariant.Unconvertible(tiff, why);
        image.ReqOrientation = Orientation.TOPLEFT;
        if ((TiffGreyAlpha.Put(tiff) ?? TiffLab.Put(tiff)) is { } put)
        {
            image.PutContig = put;
        }

        return image;
    }

    /// <summary>Converts <paramref name="rows"/> rows of <paramref name="width"/> pixels from the plane buffers into the raster.</summary>
    private static void Put(TiffRgbaImage image, TiffLayout layout, int[] raster, int rasterOffset, int rasterShift, int x, int y, int width, int rows,
                            byte[] samples, int planeBytes, byte[] interleaved, int bufferShift)
    {
        var planes = layout.Planes;
        if (planes == 1)
        {
            image.PutContig(image, raster, rasterOffset, rasterShift, x, y, width, rows, samples, 0, bufferShift);
        }
        else if (layout.InterleavedSampleBytes > 0)
        {
            Interleave(samples, planeBytes, planes, layout.InterleavedSampleBytes, interleaved);
            image.PutContig(image, raster, rasterOffset, rasterShift, x, y, width, rows, interleaved, 0, bufferShift);
        }
        else
        {
            image.PutSeparate(image, raster, rasterOffset, rasterShift, x, y, width, rows, samples,
                0, planeBytes, 2 * planeBytes, image.Alpha != 0 && planes > 3 ? 3 * planeBytes : -1, bufferShift);
        }
    }

    /// <summary>Sample <c>i</c> of plane <c>p</c> (each <paramref name="planeBytes"/> long) becomes sample <c>p</c> of pixel <c>i</c>.</summary>
    private static void Interleave(byte[] planar, int planeBytes, int planes, int sampleBytes, byte[] interleaved)
    {
        var pixels = planeBytes / sampleBytes;
        var pixelBytes = planes * sampleBytes;
        for (var plane = 0; plane < planes; plane++)
        {
            var from = planar.AsSpan(plane * planeBytes, pixels * sampleBytes);
            var to = interleaved.AsSpan(plane * sampleBytes);
            for (var i = 0; i < pixels; i++)
            {
                from.Slice(i * sampleBytes, sampleBytes).CopyTo(to.Slice(i * pixelBytes, sampleBytes));
            }
        }
    }

    private static void FeedRows(int[] raster, TiffLayout layout, BoxShrinker sink, int top, int rows)
    {
        var width = layout.Width;
        if (layout.ExtraSampleIsNotAlpha)
        {
            MakeOpaque(raster.AsSpan(0, rows * width));
        }

        for (var i = 0; i < rows; i++)
        {
            sink.AddRow(top + i, MemoryMarshal.AsBytes(raster.AsSpan(i * width, width)));
        }
    }

    /// <summary>Sets every pixel's alpha (the top byte of libtiff's packed ABGR) to opaque.</summary>
    private static void MakeOpaque(Span<int> pixels)
    {
        const int OpaqueAlpha = unchecked((int)0xFF000000);
        foreach (ref var pixel in pixels)
        {
            pixel |= OpaqueAlpha;
        }
    }

    /// <summary>One LibTiff.NET reader and its buffers: a strip or tile of every plane, and the RGBA band of a row of blocks.</summary>
    private sealed class BlockReader
    {
        private readonly TiffLayout _layout;
        private readonly TiffRgbaImage _image;
        private readonly byte[] _block;
        private readonly byte[] _interleaved;
        private readonly int[] _band;
        private readonly int _planeBytes;
        private readonly TiffJpegBlock? _jpeg;
        private readonly TiffLzwBlock? _lzw;

        public BlockReader(Tiff tiff, TiffLayout layout)
        {
            Tiff = tiff;
            _layout = layout;
            _image = Guard(() => Converter(tiff));
            _jpeg = layout.JpegBlocksBySkia ? Guard(() => new TiffJpegBlock(tiff, layout)) : null;
            _lzw = layout.LzwBlocksByUs ? Guard(() => new TiffLzwBlock(tiff, layout.MaxStoredBlockBytes)) : null;
            _planeBytes = (int)layout.BlockBytes;
            _block = new byte[(long)_planeBytes * layout.Planes];
            _interleaved = layout.InterleavedSampleBytes > 0 ? new byte[_block.Length] : [];
            _band = new int[(long)layout.Width * layout.BlockHeight];
        }

        public Tiff Tiff { get; }

        /// <summary>Reads band <paramref name="band"/> (a row of blocks). Runs on any thread.</summary>
        public bool Read(int band, CancellationToken cancellation)
        {
            QuietErrorHandler.TakeLastError(); // errors are recorded per thread
            var top = band * _layout.BlockHeight;
            var rows = Math.Min(_layout.BlockHeight, _layout.Height - top);
            if (_jpeg is not null)
            {
                ReadJpegBand(_jpeg, top, rows, cancellation);
                return true;
            }

            if (!_layout.Tiled)
            {
                for (var plane = 0; plane < _layout.PlanesToRead; plane++)
                {
                    var strip = Tiff.ComputeStrip(top, (short)plane);
                    if (_lzw?.TryDecode(Tiff, strip, tiled: false, _block, plane * _planeBytes, (int)Tiff.VStripSize(rows), Tiff.ScanlineSize()) == true)
                    {
                        continue;
                    }

                    if (Tiff.ReadEncodedStrip(strip, _block, plane * _planeBytes, _planeBytes) < 0 || QuietErrorHandler.HasError)
                    {
                        throw ReadFailure(Tiff);
                    }
                }

                Put(_image, _layout, _band, 0, 0, 0, top, _layout.Width, rows, _block, _planeBytes, _interleaved, 0);
                return true;
            }

            var tileWidth = _layout.BlockWidth;
            for (var left = 0; left < _layout.Width; left += tileWidth)
            {
                cancellation.ThrowIfCancellationRequested();
                for (var plane = 0; plane < _layout.PlanesToRead; plane++)
                {
                    if (_lzw?.TryDecode(Tiff, Tiff.ComputeTile(left, top, 0, (short)plane), tiled: true, _block, plane * _planeBytes, _planeBytes, Tiff.TileRowSize()) == true)
                    {
                        continue;
                    }

                    if (Tiff.ReadTile(_block, plane * _planeBytes, left, top, 0, (short)plane) < 0 || QuietErrorHandler.HasError)
                    {
                        throw ReadFailure(Tiff);
                    }
                }

                // A tile may reach past the right edge: only its visible columns go into the band.
                var columns = Math.Min(tileWidth, _layout.Width - left);
                Put(_image, _layout, _band, left, _layout.Width - columns, left, top, columns, rows, _block, _planeBytes, _interleaved, tileWidth - columns);
            }

            return true;
        }

        public void FeedRows(BoxShrinker sink, int top, int rows) => TiffSource.FeedRows(_band, _layout, sink, top, rows);

        /// <summary>The band's JPEG strip, or its row of JPEG tiles, decoded by Skia.</summary>
        private void ReadJpegBand(TiffJpegBlock jpeg, int top, int rows, CancellationToken cancellation)
        {
            if (!_layout.Tiled)
            {
                jpeg.DecodeInto(Tiff, Tiff.ComputeStrip(top, 0), tiled: false, _band, _layout.Width, 0, _layout.Width, rows);
                return;
            }

            for (var left = 0; left < _layout.Width; left += _layout.BlockWidth)
            {
                cancellation.ThrowIfCancellationRequested();
                var columns = Math.Min(_layout.BlockWidth, _layout.Width - left);
                jpeg.DecodeInto(Tiff, Tiff.ComputeTile(left, top, 0, 0), tiled: true, _band, _layout.Width, left, columns, rows);
            }
        }
    }

    /// <summary>
    /// Reads strips too big to hold a few rows at a time (libtiff decodes a strip row after row), with
    /// one reader per plane when planes are stored apart, so no reader ever starts its strip over.
    /// </summary>
    private sealed class RowReader
    {
        private readonly IReadOnlyList<Tiff> _planes;
        private readonly TiffLayout _layout;
        private readonly TiffRgbaImage _image;
        private readonly int _scanline;
        private readonly int _planeBytes;
        private readonly byte[] _samples;
        private readonly byte[] _interleaved;
        private readonly int[] _rows;

        public RowReader(IReadOnlyList<Tiff> planes, TiffLayout layout)
        {
            _planes = planes;
            _layout = layout;
            _image = Guard(() => Converter(planes[0]));
            _scanline = (int)layout.ScanlineBytes;
            _planeBytes = _scanline * layout.RowChunk;
            _samples = new byte[(long)_planeBytes * planes.Count];
            _interleaved = layout.InterleavedSampleBytes > 0 ? new byte[_samples.Length] : [];
            _rows = new int[(long)layout.Width * layout.RowChunk];
        }

        /// <summary>Decodes rows <paramref name="top"/> … <paramref name="top"/> + <paramref name="count"/> − 1, in order.</summary>
        public void Read(int top, int count)
        {
            QuietErrorHandler.TakeLastError();
            for (var i = 0; i < count; i++)
            {
                for (var plane = 0; plane < _layout.PlanesToRead; plane++)
                {
                    if (!_planes[plane].ReadScanline(_samples, plane * _planeBytes + i * _scanline, top + i, (short)plane) || QuietErrorHandler.HasError)
                    {
                        throw ReadFailure(_planes[plane]);
                    }
                }
            }

            Put(_image, _layout, _rows, 0, 0, 0, top, _layout.Width, count, _samples, _planeBytes, _interleaved, 0);
        }

        public void FeedRows(BoxShrinker sink, int top, int rows) => TiffSource.FeedRows(_rows, _layout, sink, top, rows);
    }
}

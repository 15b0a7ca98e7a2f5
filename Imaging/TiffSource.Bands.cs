using BitMiracle.LibTiff.Classic;

namespace ThumbnailApi.Imaging;

/// <summary>TIFF bands: one LibTiff.NET reader per lane, each filling its own band buffer.</summary>
internal sealed partial class TiffSource
{
    /// <summary>
    /// Reads bands first … first + count − 1, one per reader, on this thread and the thread pool.
    /// Every reader has finished before this returns or throws: the readers read memory that is
    /// released when this image is disposed.
    /// </summary>
    private static void ReadBands(List<BandReader> readers, int first, int count, int bandHeight)
    {
        if (count == 1)
        {
            Guard(() => readers[0].Read(first * bandHeight));
            return;
        }

        try
        {
            // The calling thread takes part, so the lanes never wait for the thread pool to grow.
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = count },
                lane => Guard(() => readers[lane].Read((first + lane) * bandHeight)));
        }
        catch (AggregateException failure)
        {
            // Parallel.For returns only when every lane has stopped; report one lane's own rejection.
            var rejection = failure.InnerExceptions.OfType<ImageRejectedException>().FirstOrDefault() ?? failure.InnerExceptions[0];
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(rejection);
        }
    }

    /// <summary>One LibTiff.NET reader and its band buffer (bottom-up, as libtiff's RGBA interface returns it).</summary>
    private sealed class BandReader
    {
        private readonly int _width;
        private readonly int _bandHeight;
        private readonly int _tileWidth;
        private readonly int[] _band;
        private readonly int[] _tile;
        private int _rows;

        public BandReader(Tiff tiff, int width, int bandHeight, int tileWidth)
        {
            Tiff = tiff;
            _width = width;
            _bandHeight = bandHeight;
            _tileWidth = tileWidth;
            _band = new int[(long)width * bandHeight];
            _tile = tileWidth > 0 ? new int[tileWidth * bandHeight] : _band;

            // Deliver the stored pixels; orientation is applied later, like for every other format.
            tiff.SetField(TiffTag.ORIENTATION, Orientation.TOPLEFT);
        }

        public Tiff Tiff { get; }

        /// <summary>Reads the band whose first row is <paramref name="top"/>. Runs on any thread.</summary>
        public bool Read(int top)
        {
            QuietErrorHandler.TakeLastError(); // errors are recorded per thread
            _rows = Math.Min(_bandHeight, Tiff.GetField(TiffTag.IMAGELENGTH)[0].ToInt() - top);
            if (_tileWidth > 0)
            {
                ReadTileRow(top);
            }
            else if (!Tiff.ReadRGBAStrip(top, _band) || QuietErrorHandler.HasError)
            {
                throw ReadFailure();
            }

            return true;
        }

        /// <summary>Hands the band's rows, top-down, to the shrinker.</summary>
        public void FeedRows(BoxShrinker sink, int top, int rows)
        {
            for (var i = 0; i < rows; i++)
            {
                sink.AddRow(top + i, System.Runtime.InteropServices.MemoryMarshal.AsBytes(_band.AsSpan((rows - 1 - i) * _width, _width)));
            }
        }

        private void ReadTileRow(int top)
        {
            for (var left = 0; left < _width; left += _tileWidth)
            {
                if (!Tiff.ReadRGBATile(left, top, _tile) || QuietErrorHandler.HasError)
                {
                    throw ReadFailure();
                }

                // A tile comes back bottom-up in a full tileWidth × tileHeight raster; the band is bottom-up too.
                var columns = Math.Min(_tileWidth, _width - left);
                for (var i = 0; i < _rows; i++)
                {
                    var tileRow = _bandHeight - _rows + i;
                    _tile.AsSpan(tileRow * _tileWidth, columns).CopyTo(_band.AsSpan(i * _width + left, columns));
                }
            }
        }
    }
}

using System.Runtime.InteropServices;

namespace ThumbnailApi.Imaging;

/// <summary>
/// The big native blocks of a decode — the upload's bytes (<see cref="EncodedInput"/>) and whole
/// decoded pictures (<see cref="KeptBitmap"/>) — kept for the next upload instead of handed back to
/// the system. A fresh multi-megabyte block is a new mapping whose pages fault in one by one as it
/// is first written; on a VM each fault is costly (a 6 MP BMP spent more time faulting than decoding). A kept block's pages are already there.
/// At most <paramref name="maxKeptBytes"/> are kept in at most <paramref name="maxKeptBlocks"/> blocks
/// (the largest win), a bigger block is never kept, and everything kept is handed back when the
/// service goes idle (<see cref="Release"/>, called by the memory trimmer).
/// </summary>
internal sealed unsafe class NativeBlocks(long maxKeptBytes, int maxKeptBlocks)
{
    /// <summary>Smaller files use plain allocations: glibc serves them from its heap, already reused.</summary>
    public const long SmallestKept = 256 * 1024;

    /// <summary>Capacities are rounded up to this, so a block fits the next file of about the same size.</summary>
    public const long Granule = 1024 * 1024;

    private readonly Lock _gate = new();
    private readonly List<Block> _kept = [];
    private long _keptBytes;

    /// <summary>
    /// The service's blocks: 64 MB at most (a 6 MP BMP is 18 MB, a 24 MP JPEG 6 MB), in one block
    /// per core, as many as can be decoding at once.
    /// </summary>
    public static NativeBlocks Shared { get; } = new(64L * 1024 * 1024, Math.Clamp(Environment.ProcessorCount, 2, 8));

    /// <summary>
    /// A block of at least <paramref name="length"/> bytes: a kept one if one fits, else a new one.
    /// With <paramref name="zeroed"/>, its first <paramref name="length"/> bytes are zero: a kept block
    /// is cleared, a new one comes zeroed from the system (no page is touched for that).
    /// </summary>
    public Block Rent(long length, bool zeroed = false)
    {
        if (length >= SmallestKept)
        {
            lock (_gate)
            {
                var best = -1;
                for (var i = 0; i < _kept.Count; i++)
                {
                    if (_kept[i].Capacity >= length && (best < 0 || _kept[i].Capacity < _kept[best].Capacity))
                    {
                        best = i;
                    }
                }

                if (best >= 0)
                {
                    var block = _kept[best];
                    _kept.RemoveAt(best);
                    _keptBytes -= block.Capacity;
                    if (zeroed)
                    {
                        NativeMemory.Clear(block.Pointer, (nuint)length);
                    }

                    return block;
                }
            }
        }

        var capacity = length >= SmallestKept ? (length + Granule - 1) / Granule * Granule : Math.Max(1, length);
        var memory = zeroed ? NativeMemory.AllocZeroed((nuint)capacity) : NativeMemory.Alloc((nuint)capacity);
        return new Block((byte*)memory, capacity);
    }

    /// <summary>Keeps <paramref name="block"/> for a later upload, or frees it (or a smaller kept one) to stay within the limits.</summary>
    public void Return(Block block)
    {
        if (block.Capacity < SmallestKept || block.Capacity > maxKeptBytes)
        {
            NativeMemory.Free(block.Pointer);
            return;
        }

        List<Block> evicted = [];
        lock (_gate)
        {
            _kept.Add(block);
            _keptBytes += block.Capacity;
            while (_kept.Count > maxKeptBlocks || _keptBytes > maxKeptBytes)
            {
                var smallest = 0;
                for (var i = 1; i < _kept.Count; i++)
                {
                    smallest = _kept[i].Capacity < _kept[smallest].Capacity ? i : smallest;
                }

                evicted.Add(_kept[smallest]);
                _keptBytes -= _kept[smallest].Capacity;
                _kept.RemoveAt(smallest);
            }
        }

        foreach (var gone in evicted)
        {
            NativeMemory.Free(gone.Pointer);
        }
    }

    /// <summary>Bytes kept right now.</summary>
    public long KeptBytes
    {
        get
        {
            lock (_gate)
            {
                return _keptBytes;
            }
        }
    }

    /// <summary>Frees every kept block (the service is idle).</summary>
    public void Release()
    {
        Block[] all;
        lock (_gate)
        {
            all = [.. _kept];
            _kept.Clear();
            _keptBytes = 0;
        }

        foreach (var block in all)
        {
            NativeMemory.Free(block.Pointer);
        }
    }

    /// <summary>A native block: where it starts and how many bytes it has.</summary>
    public readonly struct Block(byte* pointer, long capacity)
    {
        public byte* Pointer { get; } = pointer;

        public long Capacity { get; } = capacity;
    }
}

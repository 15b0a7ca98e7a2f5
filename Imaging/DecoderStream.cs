using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>
/// What Skia's codecs read the encoded bytes through: the upload in native memory, served by plain
/// copies, with two controls the decoders themselves do not offer.
/// <list type="bullet">
/// <item>Cancellation: once the token is cancelled the stream ends, so a decoder that is inside one
/// long call (libjpeg absorbing every scan of a progressive JPEG before the first row comes out)
/// runs out of data and returns within one buffer's worth of work instead of finishing the picture.</item>
/// <item>A read allowance: after <see cref="AllowNext"/> the decoder may read about that many more
/// bytes (whole reads: the one that uses it up is served in full) before the stream seems to end,
/// so an incremental decode (PNG, GIF) returns after each slice of the file and the caller checks
/// the deadline between slices.</item>
/// </list>
/// Skia calls these methods from inside native code, where an exception would end the process: each
/// one only compares numbers and copies within bounds it has checked, and cannot throw.
/// </summary>
internal sealed unsafe class DecoderStream : SKAbstractManagedStream
{
    private readonly byte* _bytes;
    private readonly long _length;
    private readonly CancellationToken _cancellation;
    private long _position;

    public DecoderStream(EncodedInput input, CancellationToken cancellation)
        : base(owns: true)
    {
        _bytes = input.Pointer;
        _length = input.Length;
        _cancellation = cancellation;
        Allowance = long.MaxValue;
    }

    /// <summary>Bytes the decoder may still read before the stream seems to end (long.MaxValue: no limit).</summary>
    private long Allowance { get; set; }

    /// <summary>Bytes the decoder has read so far (a byte read twice counts twice).</summary>
    public long BytesRead { get; private set; }

    /// <summary>True when the decoder's position is at the real end of the file.</summary>
    public bool AtEnd => _position >= _length;

    /// <summary>Lets the decoder read <paramref name="bytes"/> more, wherever it seeks meanwhile.</summary>
    public void AllowNext(long bytes) => Allowance = bytes;

    /// <summary>Lifts the read allowance.</summary>
    public void AllowAll() => Allowance = long.MaxValue;

    /// <summary>
    /// What a read may take: the rest of the file while any allowance is left, nothing once it is used
    /// up (or the deadline has passed). An allowance never cuts a read short: Skia's PNG codec drops the
    /// bytes of a short read of a chunk's length and type, and decodes from the wrong place after it
    /// (a 100 MP PNG failed as cut short whenever a slice happened to end inside such a read). So a slice
    /// may run past its allowance by one read (4 KB for PNG), and a short read means the file ends.
    /// </summary>
    private long Available => _cancellation.IsCancellationRequested || Allowance <= 0 ? 0 : Math.Max(0, _length - _position);

    protected override IntPtr OnRead(IntPtr buffer, IntPtr size)
    {
        var count = Math.Min((long)size, Available);
        if (count <= 0)
        {
            return IntPtr.Zero;
        }

        if (buffer != IntPtr.Zero)
        {
            Buffer.MemoryCopy(_bytes + _position, (void*)buffer, count, count);
        }

        _position += count;
        BytesRead += count;
        if (Allowance != long.MaxValue)
        {
            Allowance -= count;
        }

        return (IntPtr)count;
    }

    protected override IntPtr OnPeek(IntPtr buffer, IntPtr size)
    {
        var count = Math.Min((long)size, Available);
        if (count <= 0 || buffer == IntPtr.Zero)
        {
            return IntPtr.Zero;
        }

        Buffer.MemoryCopy(_bytes + _position, (void*)buffer, count, count);
        return (IntPtr)count;
    }

    protected override bool OnIsAtEnd() => Available == 0;

    protected override bool OnHasPosition() => true;

    protected override bool OnHasLength() => true;

    protected override IntPtr OnGetLength() => (IntPtr)_length;

    protected override IntPtr OnGetPosition() => (IntPtr)_position;

    protected override bool OnRewind()
    {
        _position = 0;
        return true;
    }

    protected override bool OnSeek(IntPtr position)
    {
        if ((long)position < 0 || (long)position > _length)
        {
            return false;
        }

        _position = (long)position;
        return true;
    }

    protected override bool OnMove(int offset) => OnSeek((IntPtr)(_position + offset));

    // Skia asks for a copy only to read the same data twice at once, which no codec used here does.
    protected override IntPtr OnCreateNew() => IntPtr.Zero;
}

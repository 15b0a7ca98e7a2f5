namespace ThumbnailApi.Blobs;

/// <summary>
/// A read-only view of <c>length</c> bytes of a stream from its position when the view is made, so a
/// blob store given (stream, length) stores exactly those bytes. Seekable (positions are relative to
/// the view's start) when the stream is: the S3 client hashes the payload and rewinds it to retry.
/// A stream that ends before <c>length</c> bytes is an error, not a shorter blob.
/// </summary>
public sealed class StreamSlice : Stream
{
    private readonly Stream _inner;
    private readonly long _start;
    private readonly long _length;
    private long _position;

    public StreamSlice(Stream inner, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _inner = inner;
        _length = length;
        _start = inner.CanSeek ? inner.Position : 0;
    }

    public override bool CanRead => true;
    public override bool CanSeek => _inner.CanSeek;
    public override bool CanWrite => false;
    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = _inner.Read(buffer[..Allowed(buffer.Length)]);
        return Advance(read, buffer.Length);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await _inner.ReadAsync(buffer[..Allowed(buffer.Length)], cancellationToken);
        return Advance(read, buffer.Length);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        if (!_inner.CanSeek)
        {
            throw new NotSupportedException("The underlying stream cannot seek.");
        }

        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _length + offset,
        };
        ArgumentOutOfRangeException.ThrowIfNegative(target, nameof(offset));
        _inner.Position = _start + target;
        _position = target;
        return target;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Allowed(int wanted) => (int)Math.Clamp(_length - _position, 0, wanted);

    private int Advance(int read, int wanted)
    {
        if (read == 0 && wanted > 0 && _position < _length)
        {
            throw new EndOfStreamException($"The stream ended {_length - _position} bytes before the length given.");
        }

        _position += read;
        return read;
    }
}

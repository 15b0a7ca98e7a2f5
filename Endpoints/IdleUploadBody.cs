namespace ThumbnailApi.Endpoints;

/// <summary>
/// An upload's request body, read through a clock that runs while the service waits for the client
/// and restarts with every chunk received. When the client sends nothing for the idle time (a
/// stalled or abusive upload), the connection is aborted: the pending read fails, the upload ends,
/// and its partial file is removed at once instead of waiting for Kestrel's minimum data rate,
/// which averages over the whole body (45 MB in the first second and then nothing would hold the
/// connection for hours). Like nginx's client_body_timeout, no response is sent: the client is not
/// sending, so it is closed. Logged once, without the client's address or anything it sent.
/// </summary>
public sealed partial class IdleUploadBody : Stream
{
    private readonly Stream _inner;
    private readonly HttpContext _context;
    private readonly TimeSpan _idle;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private long _received;
    private int _stalled;

    public IdleUploadBody(HttpContext context, TimeSpan idle, TimeProvider clock, ILogger logger)
    {
        _inner = context.Request.Body;
        _context = context;
        _idle = idle;
        _logger = logger;
        _timer = clock.CreateTimer(static state => ((IdleUploadBody)state!).Stall(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>True once the idle time ran out and the connection was aborted.</summary>
    public bool Stalled => Volatile.Read(ref _stalled) == 1;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // The clock runs only while waiting for the client: time spent writing to disk is the service's, not the client's.
        _timer.Change(_idle, Timeout.InfiniteTimeSpan);
        try
        {
            var read = await _inner.ReadAsync(buffer, cancellationToken);
            Interlocked.Add(ref _received, read);
            return read;
        }
        finally
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Synchronous reads are off in Kestrel (AllowSynchronousIO is false); they are not timed.</summary>
    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Stops the clock; the request body itself belongs to the server and stays open.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _timer.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Stall()
    {
        if (Interlocked.Exchange(ref _stalled, 1) == 0)
        {
            UploadStalled(_logger, (int)_idle.TotalSeconds, Interlocked.Read(ref _received));
            _context.Abort();
        }
    }

    [LoggerMessage(1020, LogLevel.Information,
        "An upload sent nothing for {IdleSeconds} s after {ReceivedBytes} bytes: its connection is closed and its partial file removed")]
    private static partial void UploadStalled(ILogger logger, int idleSeconds, long receivedBytes);
}

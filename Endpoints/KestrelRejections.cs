using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ThumbnailApi.Endpoints;

/// <summary>
/// The JSON error body for what Kestrel refuses in its parser, before any middleware runs: a URL
/// too long (414), headers too large (431), a malformed request line, header, Content-Length or
/// Transfer-Encoding (400), headers that never finish (408). Kestrel answers those itself with an
/// empty body, and offers no hook to change it (aspnet/KestrelHttpServer#2947), so a connection
/// middleware watches the bytes on their way out and replaces exactly that response.
/// <para>
/// What it recognises: a header block that begins right after a flush (where every response of the
/// connection begins), with a 4xx or 5xx status, <c>Content-Length: 0</c>, <c>Connection: close</c>
/// and no header but Date and Server, ending where the write ends. The service's own responses
/// always carry X-Content-Type-Options (<see cref="JsonErrorPages"/>), so none of them matches: HEAD
/// answers, keep-alive and pipelined responses, and streamed bodies pass untouched (nothing is
/// copied or buffered; the first bytes after a flush are only read). As the connection closes after
/// a rejection, a body added to the answer of a HEAD request cannot confuse a next response. It
/// works on HTTP/1.1 without TLS, as the service listens; on a TLS or HTTP/2 connection the bytes
/// never match and pass as they are.
/// </para>
/// </summary>
public static class KestrelRejections
{
    private const int MaxHeaderBlock = 1024;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = ReadableJsonEncoder.Instance,
    };

    /// <summary>Adds the rewriting to every endpoint Kestrel listens on.</summary>
    public static void UseJsonRejections(this ListenOptions listen) => listen.Use(next => connection =>
    {
        var transport = connection.Transport;
        connection.Transport = new Pipe(transport.Input, new RejectionBodyWriter(transport.Output));
        return next(connection);
    });

    /// <summary>
    /// The same response with the JSON error body, when <paramref name="written"/> is exactly one of
    /// Kestrel's own bodiless rejections; otherwise null.
    /// </summary>
    public static byte[]? Rewrite(ReadOnlySpan<byte> written)
    {
        if (written.Length > MaxHeaderBlock || !written.StartsWith("HTTP/1.1 "u8) || !written.EndsWith("\r\n\r\n"u8)
            || written.Length < 13 || written[9] is not ((byte)'4' or (byte)'5'))
        {
            return null;
        }

        var lines = Encoding.ASCII.GetString(written[..^4]).Split("\r\n");
        if (lines[0].Length < 12 || !int.TryParse(lines[0].AsSpan(9, 3), out var status))
        {
            return null;
        }

        bool emptyBody = false, closing = false;
        var kept = new StringBuilder();
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = colon > 0 ? line[..colon] : "";
            var value = line[(colon + 1)..].Trim();
            switch (name.ToLowerInvariant())
            {
                case "content-length" when value == "0":
                    emptyBody = true;
                    break;
                case "connection" when value.Equals("close", StringComparison.OrdinalIgnoreCase):
                    closing = true;
                    break;
                case "date" or "server":
                    kept.Append(line).Append("\r\n");
                    break;
                default:
                    return null; // a header Kestrel does not write on a rejection: someone else's response
            }
        }

        if (!emptyBody || !closing)
        {
            return null;
        }

        var (code, message) = JsonErrorPages.ErrorFor(status);
        var body = JsonSerializer.SerializeToUtf8Bytes(new ApiError { ErrorCode = status, Code = code, Message = message }, Json);
        var head = Encoding.ASCII.GetBytes(
            $"{lines[0]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n"
            + $"{kept}X-Content-Type-Options: nosniff\r\n\r\n");
        return [.. head, .. body];
    }

    private sealed class Pipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>
    /// The connection's output, passed through untouched; it only reads the first bytes committed
    /// after each flush (where a response begins) in the memory the transport handed out, and
    /// replaces them when <see cref="Rewrite"/> recognises one of Kestrel's rejections. Writers may
    /// keep writing into the rest of a span after Advance (Kestrel's BufferWriter does), so nothing
    /// is ever substituted for the transport's memory: the offset into the last memory handed out
    /// is tracked instead.
    /// </summary>
    private sealed class RejectionBodyWriter(PipeWriter inner) : PipeWriter
    {
        private Memory<byte> _last;
        private int _advanced;
        private bool _atResponseStart = true;

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            // Where a response begins, room for a whole rejection in one piece (a larger hint is always allowed).
            _last = inner.GetMemory(_atResponseStart ? Math.Max(sizeHint, MaxHeaderBlock) : sizeHint);
            _advanced = 0;
            return _last;
        }

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override void Advance(int bytes)
        {
            if (_atResponseStart && bytes > 0)
            {
                _atResponseStart = false;
                if (_advanced + bytes <= _last.Length && Rewrite(_last.Span.Slice(_advanced, bytes)) is { } rewritten)
                {
                    // The rejection's bytes were never committed: write the whole answer in their place.
                    inner.Write(rewritten);
                    _last = Memory<byte>.Empty;
                    return;
                }
            }

            _advanced += bytes;
            inner.Advance(bytes);
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            _atResponseStart = true;
            return inner.FlushAsync(cancellationToken);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
    }
}

using System.Net;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// A request body that sends all but its last bytes, then waits until <see cref="Release"/>: the
/// server is left in the middle of reading it, to line up concurrent requests.
/// </summary>
public sealed class HeldBackContent : HttpContent
{
    private const int HeldBackBytes = 200;
    private readonly byte[] _bytes;
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HeldBackContent(byte[] bytes, HttpContent original)
    {
        _bytes = bytes;
        foreach (var header in original.Headers)
        {
            Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    public static async Task<HeldBackContent> FromAsync(HttpContent content)
    {
        var bytes = await content.ReadAsByteArrayAsync();
        return new HeldBackContent(bytes, content);
    }

    public void Release() => _released.TrySetResult();

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        var split = _bytes.Length - HeldBackBytes;
        await stream.WriteAsync(_bytes.AsMemory(0, split));
        await stream.FlushAsync();
        await _released.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await stream.WriteAsync(_bytes.AsMemory(split));
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _bytes.Length;
        return true;
    }
}

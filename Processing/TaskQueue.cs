using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace ThumbnailApi.Processing;

/// <summary>
/// The bounded in-memory queue of task ids between the endpoints and the workers. It only wakes
/// workers up: the task row is the truth, so losing this queue in a crash loses nothing.
/// </summary>
public sealed class TaskQueue(IOptions<ServiceOptions> options)
{
    private readonly Channel<string> _channel = Channel.CreateBounded<string>(
        new BoundedChannelOptions(options.Value.QueueCapacity) { FullMode = BoundedChannelFullMode.Wait });

    public int Capacity { get; } = options.Value.QueueCapacity;

    public int Count => _channel.Reader.Count;

    public bool IsFull => Count >= Capacity;

    /// <summary>Queues an id at once, or returns false when the queue is full.</summary>
    public bool TryEnqueue(string id) => _channel.Writer.TryWrite(id);

    /// <summary>Queues an id, waiting for room (used when recovering a backlog at start-up).</summary>
    public ValueTask EnqueueAsync(string id, CancellationToken cancellation) => _channel.Writer.WriteAsync(id, cancellation);

    public IAsyncEnumerable<string> ReadAllAsync(CancellationToken cancellation) => _channel.Reader.ReadAllAsync(cancellation);
}

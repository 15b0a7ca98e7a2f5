using System.Threading.Channels;
using Microsoft.Extensions.Options;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Processing;

/// <summary>
/// One process: the bounded in-memory queue of task ids between the endpoints and the workers. It
/// only wakes workers up: the task row is the truth, so losing this queue in a crash loses nothing
/// (at start-up the queued rows fill it again). A worker claims the id it reads; an id read twice is
/// claimed once.
/// </summary>
public sealed class ChannelTaskFeed(ITaskStore store, TaskLeases leases, IOptions<ServiceOptions> options) : ITaskFeed
{
    private readonly Channel<string> _channel = Channel.CreateBounded<string>(
        new BoundedChannelOptions(options.Value.QueueCapacity) { FullMode = BoundedChannelFullMode.Wait });

    public int Capacity { get; } = options.Value.QueueCapacity;

    public long Depth => _channel.Reader.Count;

    public ValueTask<bool> HasRoomAsync() => ValueTask.FromResult(Depth < Capacity);

    public bool Offer(string id) => _channel.Writer.TryWrite(id);

    /// <summary>Its row is queued already: when the channel is full, the id waits for room (as the start-up backlog does).</summary>
    public void Return(string id)
    {
        if (!_channel.Writer.TryWrite(id))
        {
            _ = _channel.Writer.WriteAsync(id).AsTask();
        }
    }

    /// <summary>Queues the ids of the rows already queued, oldest first, waiting for room (a backlog bigger than the channel).</summary>
    public async Task StartAsync(CancellationToken cancellation)
    {
        var queued = await store.QueuedIdsAsync();
        _ = Task.Run(async () =>
        {
            foreach (var id in queued)
            {
                await _channel.Writer.WriteAsync(id, cancellation);
            }
        }, CancellationToken.None).ContinueWith(static backlog => backlog.Exception, TaskContinuationOptions.OnlyOnFaulted);
    }

    public async Task<ClaimedTask> NextAsync(CancellationToken cancellation)
    {
        while (true)
        {
            var id = await _channel.Reader.ReadAsync(cancellation);
            var lease = leases.New();
            try
            {
                if (await store.TryClaimAsync(id, lease) is { } task)
                {
                    return new ClaimedTask(task, lease);
                }
            }
            catch (StorageUnavailableException)
            {
                _channel.Writer.TryWrite(id); // the row is still queued: try it again once storage answers
                throw;
            }
        }
    }
}

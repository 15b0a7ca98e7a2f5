using Microsoft.Extensions.Options;

namespace ThumbnailApi.Endpoints;

/// <summary>Why an upload got no slot.</summary>
public enum SlotRefusal
{
    None,
    Client,
    Total,
}

/// <summary>
/// Uploads in progress, per client address and in total, against <see cref="ServiceOptions.MaxConcurrentUploadsPerClient"/>
/// and <see cref="ServiceOptions.MaxConcurrentUploads"/> (0 turns a cap off): each upload streams
/// up to MaxUploadBytes to disk, so these bound the disk and connections one client, or all of
/// them, can hold at once. A small explicit counter rather than a ConcurrencyLimiter chained to the
/// token bucket of <see cref="UploadRateLimit"/>: the two caps answer differently (429 for one
/// client, 503 for the service), which a chained limiter's rejection does not tell apart.
/// </summary>
public sealed class UploadSlots(IOptions<ServiceOptions> options)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _byClient = new(StringComparer.Ordinal);
    private readonly int _perClient = options.Value.MaxConcurrentUploadsPerClient;
    private readonly int _total = options.Value.MaxConcurrentUploads;
    private int _inProgress;

    /// <summary>Uploads holding a slot now.</summary>
    public int InProgress
    {
        get
        {
            lock (_lock)
            {
                return _inProgress;
            }
        }
    }

    /// <summary>A slot for one more upload from <paramref name="client"/>, to dispose when the upload ends; or why there is none.</summary>
    public (IDisposable? Slot, SlotRefusal Refusal) TryEnter(string client)
    {
        lock (_lock)
        {
            var ofClient = _byClient.GetValueOrDefault(client);
            if (_perClient > 0 && ofClient >= _perClient)
            {
                return (null, SlotRefusal.Client);
            }

            if (_total > 0 && _inProgress >= _total)
            {
                return (null, SlotRefusal.Total);
            }

            _byClient[client] = ofClient + 1;
            _inProgress++;
        }

        return (new Slot(this, client), SlotRefusal.None);
    }

    private void Leave(string client)
    {
        lock (_lock)
        {
            _inProgress--;
            if (_byClient[client] is 1)
            {
                _byClient.Remove(client); // no entry is kept for a client with nothing in progress
            }
            else
            {
                _byClient[client]--;
            }
        }
    }

    private sealed class Slot(UploadSlots slots, string client) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
            {
                slots.Leave(client);
            }
        }
    }
}

using Microsoft.Extensions.Options;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Processing;

/// <summary>New leases for this instance's claims: owned by this instance, expiring <see cref="ServiceOptions.LeaseSeconds"/> from now.</summary>
public sealed class TaskLeases(InstanceIdentity instance, IOptions<ServiceOptions> options, TimeProvider clock)
{
    public TimeSpan Duration { get; } = options.Value.Lease;

    public TaskLease New() => TaskLease.New(instance.Id, ExpiryFromNow());

    public long ExpiryFromNow() => (clock.GetUtcNow() + Duration).ToUnixTimeMilliseconds();
}

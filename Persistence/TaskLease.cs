using System.Security.Cryptography;

namespace ThumbnailApi.Persistence;

/// <summary>
/// A worker's claim on a task: who holds it (<see cref="Owner"/>, the instance), a token that is new
/// for every claim, and until when it holds without a heartbeat (Unix ms). Finishing or releasing a
/// task is fenced by the token: a worker whose lease expired and whose task was claimed again can
/// never overwrite the new owner's result, and its files carry its own token, so it can only ever
/// delete its own.
/// </summary>
public sealed record TaskLease(string Owner, string Token, long ExpiresAt)
{
    public static TaskLease New(string owner, long expiresAt) => new(owner, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), expiresAt);

    public TaskLease RenewedUntil(long expiresAt) => this with { ExpiresAt = expiresAt };
}

/// <summary>This process among the instances that share a database: a new id at every start.</summary>
public sealed class InstanceIdentity
{
    public string Id { get; } = $"{Environment.MachineName.ToLowerInvariant()}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
}

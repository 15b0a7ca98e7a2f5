namespace ThumbnailApi.Persistence;

/// <summary>
/// How long PostgreSQL lets a transaction of this instance sit idle between two statements before it
/// ends the session, and the transaction and its locks with it. An instance frozen inside a transaction
/// (a paused VM, SIGSTOP, a debugger) would otherwise keep its row and advisory locks until it runs
/// again, and every instance waiting for one of them would stall with it: a thumbnail key's lock,
/// held for a moment by each worker that stores a thumbnail, stalled every worker of the other
/// instances that had a thumbnail with the same content to store.
/// </summary>
/// <param name="BetweenStatements">
/// For transactions with nothing but this instance's own code between their statements: one lease.
/// An instance stalled that long has lost its claims anyway.
/// </param>
/// <param name="AroundBlobCalls">
/// For the deletions that remove a blob while they hold its key's lock: none (<see cref="TimeSpan.Zero"/>),
/// so such a deletion is always waited for. Cut off by the server, a deletion whose S3 DELETE is still
/// to be sent (the instance frozen before it, or between the SDK's retries) would let a worker refer
/// to the key, find the blob there and not store it, and then remove it from under that worker's
/// finished task when the instance runs again. A frozen deleter stalls the workers of the same key
/// until it runs again (each gives up its claim after the command timeout and tries later): slower,
/// never wrong.
/// </param>
public sealed record TransactionIdleLimits(TimeSpan BetweenStatements, TimeSpan AroundBlobCalls)
{
    /// <summary>For schema migrations, which run before the options' lease matters.</summary>
    public static readonly TimeSpan Migration = TimeSpan.FromMinutes(1);

    public static TransactionIdleLimits For(ServiceOptions options) => new(options.Lease, TimeSpan.Zero);
}

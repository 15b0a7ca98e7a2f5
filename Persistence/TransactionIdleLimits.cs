using ThumbnailApi.Blobs;

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
/// For the deletions that remove a blob while they hold its key's lock: longer than any blob-store call
/// can take, so that a slow store is never cut off halfway (a deletion cut off after the blob is gone
/// would leave the rows it meant to delete).
/// </param>
public sealed record TransactionIdleLimits(TimeSpan BetweenStatements, TimeSpan AroundBlobCalls)
{
    /// <summary>For schema migrations, which run before the options' lease matters.</summary>
    public static readonly TimeSpan Migration = TimeSpan.FromMinutes(1);

    public static TransactionIdleLimits For(ServiceOptions options) =>
        new(options.Lease, BlobRegistration.LongestCall + options.Lease);
}

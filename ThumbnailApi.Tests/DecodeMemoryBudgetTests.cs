using Microsoft.Extensions.Options;
using ThumbnailApi.Processing;

namespace ThumbnailApi.Tests;

/// <summary>The decoding memory budget: reservations are granted in order while they fit, and given back once.</summary>
[TestFixture]
public sealed class DecodeMemoryBudgetTests
{
    private const long MiB = 1024 * 1024;

    private static DecodeMemoryBudget Budget(long capacity) =>
        new(Options.Create(new ServiceOptions { MaxDecodeMemoryBytes = capacity }));

    [Test]
    public async Task Reservations_that_fit_are_granted_at_once_and_the_next_waits_until_memory_is_given_back()
    {
        var budget = Budget(100 * MiB);
        using var first = await budget.ReserveAsync(60 * MiB, CancellationToken.None);

        var second = budget.ReserveAsync(60 * MiB, CancellationToken.None).AsTask();
        Assert.That(second.IsCompleted, Is.False);
        Assert.That(budget.Waiting, Is.EqualTo(1));

        first.Dispose();
        using var granted = await second.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(budget.Reserved, Is.EqualTo(60 * MiB));
    }

    [Test]
    public async Task A_big_reservation_is_not_overtaken_by_small_ones_asked_for_after_it()
    {
        var budget = Budget(100 * MiB);
        var held = await budget.ReserveAsync(50 * MiB, CancellationToken.None);

        var big = budget.ReserveAsync(80 * MiB, CancellationToken.None).AsTask();
        var small = budget.ReserveAsync(10 * MiB, CancellationToken.None).AsTask();
        Assert.That(small.IsCompleted, Is.False, "10 MB would fit, but the 80 MB asked first");

        held.Dispose();
        using var bigLease = await big.WaitAsync(TimeSpan.FromSeconds(5));
        using var smallLease = await small.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(budget.Reserved, Is.EqualTo(90 * MiB));
    }

    [Test]
    public async Task A_header_check_that_fits_in_what_is_free_goes_ahead_of_a_task_waiting_for_more()
    {
        var budget = Budget(100 * MiB);
        using var held = await budget.ReserveAsync(50 * MiB, CancellationToken.None);
        var waitingTask = budget.ReserveAsync(80 * MiB, CancellationToken.None).AsTask();

        var check = budget.ReserveAsync(20 * MiB, CancellationToken.None, aheadOfWaiting: true).AsTask();

        Assert.That(check.IsCompletedSuccessfully, Is.True);
        Assert.That(waitingTask.IsCompleted, Is.False);
        check.Result.Dispose();
    }

    [Test]
    public async Task A_reservation_larger_than_the_budget_is_cut_to_the_budget_and_runs_alone()
    {
        var budget = Budget(100 * MiB);

        using var lease = await budget.ReserveAsync(500 * MiB, CancellationToken.None);

        Assert.That(lease.Bytes, Is.EqualTo(100 * MiB));
        Assert.That(budget.ReserveAsync(1, CancellationToken.None).AsTask().IsCompleted, Is.False);
    }

    [Test]
    public async Task A_cancelled_wait_leaves_the_line_and_lets_the_next_in_line_through()
    {
        var budget = Budget(100 * MiB);
        var held = await budget.ReserveAsync(50 * MiB, CancellationToken.None);
        using var giveUp = new CancellationTokenSource();

        var blocked = budget.ReserveAsync(80 * MiB, giveUp.Token).AsTask();
        var behind = budget.ReserveAsync(40 * MiB, CancellationToken.None).AsTask();
        await giveUp.CancelAsync();

        Assert.That(async () => await blocked, Throws.InstanceOf<OperationCanceledException>());
        using var lease = await behind.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(budget.Reserved, Is.EqualTo(90 * MiB));
        held.Dispose();
    }

    [Test]
    public async Task Disposing_a_lease_twice_gives_its_memory_back_once()
    {
        var budget = Budget(100 * MiB);
        var lease = await budget.ReserveAsync(30 * MiB, CancellationToken.None);
        using var other = await budget.ReserveAsync(20 * MiB, CancellationToken.None);

        lease.Dispose();
        lease.Dispose();

        Assert.That(budget.Reserved, Is.EqualTo(20 * MiB));
    }
}

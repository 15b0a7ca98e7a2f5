using ThumbnailApi.Persistence;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ThumbnailApi.Processing;

namespace ThumbnailApi.Tests;

/// <summary>The per-task completion signal behind long-polling, on its own.</summary>
[TestFixture]
public sealed class TaskCompletionSignalsTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    [Test]
    public async Task Raising_a_task_wakes_all_of_its_waiters_and_no_one_else()
    {
        var signals = Signals();
        var clock = new FakeTimeProvider();
        using var first = signals.TryWait("a")!;
        using var second = signals.TryWait("a")!;
        using var other = signals.TryWait("b")!;
        var waits = new[] { first, second, other }.Select(waiter => waiter.WaitAsync(Long, clock, CancellationToken.None)).ToArray();

        signals.Raise("a");

        await Task.WhenAll(waits[0], waits[1]).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(waits[2].IsCompleted, Is.False);
    }

    [Test]
    public async Task A_wait_ends_quietly_at_its_timeout_and_on_cancellation()
    {
        var signals = Signals();
        var clock = new FakeTimeProvider();
        using var timed = signals.TryWait("a")!;
        using var cancelled = signals.TryWait("a")!;
        using var abort = new CancellationTokenSource();
        var timing = timed.WaitAsync(TimeSpan.FromSeconds(3), clock, CancellationToken.None);
        var cancelling = cancelled.WaitAsync(Long, clock, abort.Token);

        clock.Advance(TimeSpan.FromSeconds(3));
        await abort.CancelAsync();

        await Assert.DoesNotThrowAsync(() => timing.WaitAsync(TimeSpan.FromSeconds(10)));
        await Assert.DoesNotThrowAsync(() => cancelling.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Test]
    public void A_signal_is_removed_when_its_last_waiter_leaves()
    {
        var signals = Signals();
        var first = signals.TryWait("a")!;
        var second = signals.TryWait("a")!;
        Assert.That((signals.WaiterCount, signals.SignalCount), Is.EqualTo((2, 1)));

        first.Dispose();
        first.Dispose(); // twice is once
        Assert.That((signals.WaiterCount, signals.SignalCount), Is.EqualTo((1, 1)));

        second.Dispose();
        Assert.That((signals.WaiterCount, signals.SignalCount), Is.EqualTo((0, 0)));
    }

    [Test]
    public void Waiters_of_a_raised_signal_leave_without_touching_the_next_signal_for_the_same_task()
    {
        var signals = Signals();
        var early = signals.TryWait("a")!;
        signals.Raise("a");
        using var late = signals.TryWait("a")!;

        early.Dispose();

        Assert.That((signals.WaiterCount, signals.SignalCount), Is.EqualTo((1, 1)));
        var wait = late.WaitAsync(Long, new FakeTimeProvider(), CancellationToken.None);
        Assert.That(wait.IsCompleted, Is.False, "the new signal was not raised by the old one");
    }

    [Test]
    public void Over_the_cap_no_waiter_is_given()
    {
        var signals = Signals(maxWaiters: 2);
        using var first = signals.TryWait("a");
        using var second = signals.TryWait("b");

        Assert.That(signals.TryWait("c"), Is.Null);
        second!.Dispose();
        using var third = signals.TryWait("c");
        Assert.That(third, Is.Not.Null, "a place frees up when a waiter leaves");
    }

    private static TaskCompletionSignals Signals(int maxWaiters = 100) =>
        new(Options.Create(new ServiceOptions { LongPollMaxWaiters = maxWaiters }), new TaskEvents());
}

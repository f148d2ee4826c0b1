namespace Leasehold.Client.Tests;

/// <summary>
/// A handle keeps its lease alive for as long as it lives: a ttl lease by renewing it every ttl/3, a
/// lease without a ttl by keeping its session alive (also while the acquire waits in the queue).
/// </summary>
public abstract class KeepAliveTests : ContractTestBase
{
    [Fact]
    public async Task A_session_bound_acquire_may_wait_longer_than_the_session_ttl()
    {
        // The acquire's own session (1 s) would expire during a 3 s wait if nobody kept it alive, and the
        // waiting request would fail with session-ended instead of being granted.
        var holder = CreateClient();
        var waiter = CreateClient(o => o.SessionTtl = TimeSpan.FromSeconds(1));
        var held = await Bounded(holder.AcquireAsync(PathOptions("/long-wait", 60)));

        var waiting = waiter.AcquireAsync(PathOptions("/long-wait", null) with { Wait = TimeSpan.FromSeconds(15) });
        await WaitUntilAsync(async () => (await Bounded(waiter.GetResourceAsync("/long-wait"))).Queue.Length == 1, "the request queues");
        await Task.Delay(TimeSpan.FromSeconds(3)); // Three session ttls in the queue.
        Assert.False(waiting.IsCompleted, waiting.Exception?.ToString());
        await Bounded(held.DisposeAsync().AsTask());

        await using var granted = await Bounded(waiting);
        Assert.NotNull(granted.SessionId);
        Assert.Equal(granted.SessionId, (await Bounded(waiter.GetLeaseAsync(granted.Id)))?.Session);
    }
}

namespace Leasehold.Client.Tests;

/// <summary>
/// A handle keeps its lease alive for as long as it lives: a ttl lease by renewing it every ttl/3, a
/// lease without a ttl by keeping its session alive (also while the acquire waits in the queue).
/// </summary>
public abstract class KeepAliveTests : ContractTestBase
{
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task A_lease_with_a_one_second_ttl_stays_held_for_four_seconds()
    {
        var client = CreateClient();
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/keep/ttl", 1)));
        var firstExpiry = lease.Lease.ExpiresAt;
        Assert.NotNull(firstExpiry);

        await Task.Delay(Hold); // Holding is the point: four times the ttl.

        var now = await Bounded(client.GetLeaseAsync(lease.Id));
        Assert.NotNull(now);
        Assert.Equal(lease.Fence, now.Fence);
        Assert.True(now.ExpiresAt >= firstExpiry + Hold - TimeSpan.FromSeconds(1),
            $"expiresAt moved from {firstExpiry:O} only to {now.ExpiresAt:O}");
        Assert.False(lease.LostToken.IsCancellationRequested);
        // Nobody else can take it meanwhile.
        Assert.Null(await Bounded(CreateClient().TryAcquireAsync(PathOptions("/keep/ttl", 1))));
    }

    [Fact]
    public async Task A_lease_without_a_ttl_stays_held_while_its_one_second_session_is_kept_alive()
    {
        var client = CreateClient(o => o.SessionTtl = TimeSpan.FromSeconds(1));
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/keep/session", null)));
        Assert.NotNull(lease.SessionId);

        await Task.Delay(Hold); // Four session ttls.

        var now = await Bounded(client.GetLeaseAsync(lease.Id));
        Assert.NotNull(now);
        Assert.Null(now.Ttl);
        Assert.Null(now.ExpiresAt);
        Assert.Equal(lease.SessionId, now.Session);
        Assert.False(lease.LostToken.IsCancellationRequested);
        Assert.Equal(1, (await Server.StatsAsync()).Sessions);
    }

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

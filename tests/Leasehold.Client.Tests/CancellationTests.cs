namespace Leasehold.Client.Tests;

/// <summary>
/// An acquire the caller gives up on leaves nothing behind: not a waiter in the queue, and not a lease
/// granted later to a request whose answer nobody reads.
/// </summary>
public abstract class CancellationTests : ContractTestBase
{
    [Theory]
    [InlineData(30.0)]
    [InlineData(null)]
    public async Task A_cancelled_waiting_acquire_leaves_no_waiter_and_no_lease(double? ttl)
    {
        var holder = CreateClient();
        var waiter = CreateClient();
        var held = await Bounded(holder.AcquireAsync(PathOptions("/jobs/cancel", 60)));

        using var cts = new CancellationTokenSource();
        var waiting = waiter.AcquireAsync(PathOptions("/jobs/cancel", ttl) with { Wait = TimeSpan.FromSeconds(60) }, cts.Token);
        await WaitUntilAsync(async () => (await Bounded(waiter.GetResourceAsync("/jobs/cancel"))).Queue.Length == 1, "the request queues");

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(waiting));

        await WaitUntilAsync(async () => (await Bounded(waiter.GetResourceAsync("/jobs/cancel"))).Queue.Length == 0, "the abandoned request leaves the queue");
        Assert.Equal(0, (await Server.StatsAsync()).Waiters);

        await Bounded(held.DisposeAsync().AsTask()); // Would grant the next waiter in the same step, if there were one.

        var resource = await Bounded(waiter.GetResourceAsync("/jobs/cancel"));
        Assert.Empty(resource.Holders);
        Assert.Empty(resource.Queue);
        var stats = await Server.StatsAsync();
        Assert.Equal(0, stats.Leases);
        Assert.Equal(0, stats.Sessions);
        await using var free = await Bounded(CreateClient().TryAcquireAsync(PathOptions("/jobs/cancel", 30)));
        Assert.NotNull(free);
    }

    [Fact]
    public async Task An_acquire_given_up_on_while_its_session_opens_leaves_no_session()
    {
        // The server opens the session, its answer is held on the way back, and the caller gives up meanwhile. Over the native
        // protocol the session is bound to the connection (the server keeps it alive while it stands), so unless the client
        // closes it, it would stay for good with nobody holding its token; over HTTP it ends by its ttl.
        var (relay, client) = ClientThroughRelay(o => o.SessionTtl = TimeSpan.FromSeconds(2));
        await using var proxy = relay;
        await Bounded(client.ListAsync("/", 1)); // connected (the native handshake's answer is not held)
        proxy.HoldReplies();
        using var cts = new CancellationTokenSource();
        var acquiring = client.AcquireAsync(PathOptions("/jobs/given-up", null), cts.Token);
        await WaitUntilAsync(async () => (await Server.StatsAsync()).Sessions == 1, "the session is opened on the server");
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(acquiring));
        proxy.PassReplies();

        await WaitUntilAsync(async () => (await Server.StatsAsync()).Sessions == 0, "the session nobody holds ends");
        Assert.Equal(0, (await Server.StatsAsync()).Leases);
    }

    [Fact]
    public async Task A_token_cancelled_before_the_call_sends_nothing()
    {
        var client = CreateClient();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(client.AcquireAsync(PathOptions("/never", null), cts.Token)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(client.AcquireAsync(PathOptions("/never", 30), cts.Token)));

        var stats = await Server.StatsAsync();
        Assert.Equal(0, stats.Leases);
        Assert.Equal(0, stats.Sessions);
    }
}

using System.Diagnostics;

namespace Leasehold.Client.Tests;

/// <summary>
/// <see cref="LeaseHandle.LostToken"/> fires when the lease is, or may be, gone: revoked by someone
/// holding its token, forgotten by a server that restarted without it, or out of reach for longer
/// than it lives.
/// </summary>
public abstract class LostTokenTests : ContractTestBase
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    // The restart tests need a server that forgets: with the memory policy nothing survives a restart.
    protected override string[] ServerArgs => ["--Leasehold:Durability=memory"];

    [Theory]
    [InlineData(1.5)]
    [InlineData(null)]
    public async Task LostToken_fires_when_the_lease_is_released_out_of_band(double? ttl)
    {
        var client = CreateClient(o => o.SessionTtl = TimeSpan.FromSeconds(1.5));
        var admin = CreateClient();
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/revoked", ttl)));

        await Bounded(admin.ReleaseAsync(lease.Id, lease.Token));

        await AssertFiresAsync(lease.LostToken, Bound, "LostToken after the lease was released by another client");
        Assert.Null(await Bounded(admin.GetLeaseAsync(lease.Id)));
    }

    [Fact]
    public async Task A_lease_longer_than_a_timer_can_wait_is_kept_and_released_like_any_other()
    {
        // 366 days: every wait the handle plans must still be one a timer can do.
        var client = CreateClient();
        var lease = await Bounded(client.AcquireAsync(PathOptions("/long", 366 * 86400)));
        var early = lease.EarlyLostToken(TimeSpan.FromSeconds(5));

        Assert.False(early.IsCancellationRequested);
        Assert.False(lease.LostToken.IsCancellationRequested);
        Assert.Equal(366 * 86400, (await Bounded(lease.RenewAsync())).Ttl);
        await Bounded(lease.DisposeAsync().AsTask());
        Assert.Null(await Bounded(client.GetLeaseAsync(lease.Id)));
    }

    [Theory]
    [InlineData(1.5)]
    [InlineData(null)]
    public async Task LostToken_does_not_fire_while_the_lease_is_held(double? ttl)
    {
        var client = CreateClient(o => o.SessionTtl = TimeSpan.FromSeconds(1));
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/steady", ttl)));

        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = lease.LostToken.Register(() => fired.TrySetResult());
        var done = await Task.WhenAny(fired.Task, Task.Delay(TimeSpan.FromSeconds(3)));

        Assert.NotSame(fired.Task, done);
        Assert.NotNull(await Bounded(client.GetLeaseAsync(lease.Id)));
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(null)]
    public async Task LostToken_fires_when_the_server_restarts_without_the_lease(double? ttl)
    {
        var client = CreateClient(o => o.SessionTtl = TimeSpan.FromSeconds(2));
        var old = await Bounded(client.AcquireAsync(PathOptions("/restart", ttl)));

        await Server.RestartAsync(); // Same port, memory durability: the new server has never heard of the lease.
        // Someone else takes the path on the new server, and with it (ids start again) the old lease's id.
        var newcomer = CreateClient(o => o.SessionTtl = TimeSpan.FromSeconds(2));
        await using var taken = await Bounded(newcomer.AcquireAsync(PathOptions("/restart", ttl)));
        Assert.Equal(old.Id, taken.Id);

        await AssertFiresAsync(old.LostToken, Bound, "LostToken after a restart without the lease");

        // Disposing the lost handle is quiet and does not touch the newcomer's lease, which has its id.
        await Bounded(old.DisposeAsync().AsTask());
        var still = await Bounded(newcomer.GetLeaseAsync(taken.Id));
        Assert.NotNull(still);
        Assert.Equal(taken.Fence, still.Fence);
        Assert.False(taken.LostToken.IsCancellationRequested);
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(null)]
    public async Task LostToken_fires_when_the_server_is_unreachable_for_longer_than_the_lease_lives(double? ttl)
    {
        var lifetime = TimeSpan.FromSeconds(2);
        var client = CreateClient(o => o.SessionTtl = lifetime);
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/unreachable", ttl)));

        var stopping = Stopwatch.StartNew();
        await Server.StopAsync(); // Connections refused from now on.
        var stopTook = stopping.Elapsed;

        var after = stopTook + await AssertFiresAsync(lease.LostToken, Bound, "LostToken while the server is down");
        // The last keep-alive that got through was sent before the stop began, so the lease may be gone
        // a lifetime after that at the latest: LostToken should have fired by then (plus scheduling slack).
        Assert.True(after <= lifetime + TimeSpan.FromSeconds(0.75),
            $"LostToken fired {after.TotalSeconds:0.00} s after the server began to stop; the lease lives {lifetime.TotalSeconds} s");
        await Bounded(lease.DisposeAsync().AsTask());
    }

    [Theory]
    [InlineData(3.0)]
    [InlineData(null)]
    public async Task EarlyLostToken_fires_its_lead_before_the_lease_could_end_when_the_server_is_unreachable(double? ttl)
    {
        var lifetime = TimeSpan.FromSeconds(3);
        var lead = TimeSpan.FromSeconds(1);
        var client = CreateClient(o => o.SessionTtl = lifetime);
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/early", ttl)));
        var early = lease.EarlyLostToken(lead);
        var stillHeldWhenEarlyFired = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = early.Register(() => stillHeldWhenEarlyFired.TrySetResult(!lease.LostToken.IsCancellationRequested));

        var stopping = Stopwatch.StartNew();
        await Server.StopAsync();
        var stopTook = stopping.Elapsed;

        var after = stopTook + await AssertFiresAsync(early, Bound, "EarlyLostToken while the server is down");
        // The last keep-alive that got through was sent before the stop began: the lease may end a lifetime
        // after it, and the early token must fire its lead before that (plus scheduling slack).
        Assert.True(after <= lifetime - lead + TimeSpan.FromSeconds(0.5),
            $"EarlyLostToken fired {after.TotalSeconds:0.00} s after the server began to stop; lifetime {lifetime.TotalSeconds} s, lead {lead.TotalSeconds} s");
        Assert.True(await stillHeldWhenEarlyFired.Task, "LostToken had fired before EarlyLostToken");
        await AssertFiresAsync(lease.LostToken, Bound, "LostToken after EarlyLostToken");
        await Bounded(lease.DisposeAsync().AsTask());
    }

    [Fact]
    public async Task EarlyLostToken_fires_with_LostToken_when_the_lease_is_released_out_of_band_and_not_while_it_is_held()
    {
        var client = CreateClient(o => o.SessionTtl = TimeSpan.FromSeconds(1.5));
        var admin = CreateClient();
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/early-revoked", 1.5)));
        var early = lease.EarlyLostToken(TimeSpan.FromSeconds(0.5));

        await Task.Delay(TimeSpan.FromSeconds(2)); // Longer than the lease lives: only renewals keep it, and the early token, alive.
        Assert.False(early.IsCancellationRequested, "EarlyLostToken fired while the lease was renewed");
        await Bounded(admin.ReleaseAsync(lease.Id, lease.Token));

        await AssertFiresAsync(early, Bound, "EarlyLostToken after the lease was released by another client");
        Assert.True(lease.LostToken.IsCancellationRequested);
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(null)]
    public async Task LostToken_fires_in_time_when_the_server_stops_answering(double? ttl)
    {
        // A silent network failure: requests are sent and never answered, nothing is refused. A renew
        // that hangs must not hold LostToken back past the moment the lease may have expired.
        var lifetime = TimeSpan.FromSeconds(2);
        var proxy = new BlackholeProxy(Server.PortOf(Transport), Transport == ClientTransport.Native);
        try
        {
            var client = CreateClient(o =>
            {
                o.Server = proxy.Address;
                o.SessionTtl = lifetime;
            });
            var lease = await Bounded(client.AcquireAsync(PathOptions("/partitioned", ttl)));

            proxy.Partition();

            var after = await AssertFiresAsync(lease.LostToken, Bound, "LostToken while the server does not answer");
            Assert.True(after <= lifetime + TimeSpan.FromSeconds(0.75),
                $"LostToken fired {after.TotalSeconds:0.00} s after the partition; the lease lives {lifetime.TotalSeconds} s");
            // Disposing does not hang on the unanswered network either.
            await Bounded(lease.DisposeAsync().AsTask());
        }
        finally
        {
            // Closes every relayed connection, so nothing of the test is left hanging on it.
            await proxy.DisposeAsync();
        }
    }
}

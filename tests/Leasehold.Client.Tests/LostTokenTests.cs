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

    [Theory]
    [InlineData(1.5)]
    [InlineData(null)]
    public async Task A_LostToken_callback_that_disposes_the_handle_and_waits_for_it_returns(double? ttl)
    {
        var client = CreateClient(o => o.SessionTtl = TimeSpan.FromSeconds(1.5));
        var admin = CreateClient();
        var lease = await Bounded(client.AcquireAsync(PathOptions("/disposed-when-lost", ttl)));
        var disposed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        // Blocking in the callback is poor style, but a lock user does it (a synchronous Dispose in a lost handler): it
        // must not wait for the keep-alive loop that noticed the loss, as it did when the callback ran on that loop.
        using var registration = lease.LostToken.Register(() =>
        {
            disposed.TrySetResult(lease.DisposeAsync().AsTask().Wait(Bound));
        });

        await Bounded(admin.ReleaseAsync(lease.Id, lease.Token));

        Assert.True(await Bounded(disposed.Task), "the handle's disposal did not end within the bound");
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

    [Fact]
    public async Task EarlyLostToken_asked_again_with_the_same_lead_is_the_same_token()
    {
        var client = CreateClient();
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/early-again", 30)));
        var early = lease.EarlyLostToken(TimeSpan.FromSeconds(10));
        // One timer per lead, not one more per call (a caller asking per unit of work would otherwise pile them up).
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(early, lease.EarlyLostToken(TimeSpan.FromSeconds(10)));
        }
        Assert.NotEqual(early, lease.EarlyLostToken(TimeSpan.FromSeconds(11)));
        Assert.False(early.IsCancellationRequested);
    }

    [Fact]
    public async Task EarlyLostToken_fires_with_LostToken_when_the_lease_is_released_out_of_band_and_not_while_it_is_held()
    {
        // The client's time is fake: two lifetimes of renewals pass in no time; the server's 30 s ttl does not run out meanwhile.
        var clock = new TestClock();
        var client = CreateClient(o =>
        {
            o.TimeProvider = clock;
            o.ConnectTimeout = TimeSpan.FromMinutes(1); // A native heartbeat longer than each step of the clock.
        });
        var admin = CreateClient();
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/early-revoked", 30)));
        var early = lease.EarlyLostToken(TimeSpan.FromSeconds(10));
        var period = TimeSpan.FromSeconds(10);

        for (var i = 1; i <= 6; i++)
        {
            var due = await clock.WaitArmedAsync(d => d >= period && d < period + TimeSpan.FromSeconds(1), i, $"the wait before renewal {i}");
            clock.Advance(due);
        }
        // The sixth renewal got through too: the keep-alive waits a whole period again.
        await clock.WaitArmedAsync(period, 7, "renewal 6 got through");
        Assert.False(early.IsCancellationRequested, "EarlyLostToken fired while the lease was renewed");
        await Bounded(admin.ReleaseAsync(lease.Id, lease.Token));

        clock.Advance(period); // The next renewal hears not-found.
        await AssertFiresAsync(early, Bound, "EarlyLostToken after the lease was released by another client");
        Assert.True(lease.LostToken.IsCancellationRequested);
    }
}

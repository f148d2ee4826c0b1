namespace Leasehold.Client.Tests;

/// <summary>
/// The client's timing on a fake clock (<see cref="LeaseholdClientOptions.TimeProvider"/>): renewals every third of the
/// ttl, sessions kept alive, LostToken and EarlyLostToken when nothing gets through, retry pauses and the retry timeout.
/// The test moves the client's time on instead of sleeping; the server keeps its real clock, so leases and sessions here
/// live far longer (30 s, 60 s) than the real time a test takes, and only what the client does is timed.
/// </summary>
public abstract class ClockTests : ContractTestBase
{
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// A client on <paramref name="clock"/>. The native heartbeat is a minute (ConnectTimeout), so that moving time on by
    /// tens of seconds at once does not also take the connection for dead because a ping had no real time to be answered.
    /// </summary>
    private LeaseholdClient ClientOn(TestClock clock, Action<LeaseholdClientOptions>? configure = null)
        => CreateClient(o =>
        {
            o.TimeProvider = clock;
            o.ConnectTimeout = TimeSpan.FromMinutes(1);
            configure?.Invoke(o);
        });

    /// <summary>How long the handle counts a lease as surely alive after a keep-alive: a bound session's is shorter (docs/protocol.md).</summary>
    private TimeSpan LifetimeOf(double? ttl, TimeSpan sessionTtl)
        => ttl is { } t ? TimeSpan.FromSeconds(t)
            : Transport == ClientTransport.Native ? sessionTtl * 2 / 3 - TimeSpan.FromMilliseconds(100)
            : sessionTtl;

    /// <summary>
    /// Waits until the handle has armed LostToken's deadline (its keep-alive starts on the thread pool): only then may the
    /// test move time on, or the keep-alive would start after a jump of the clock.
    /// </summary>
    private static Task ArmedAsync(TestClock clock, TimeSpan lifetime) => clock.WaitArmedAsync(lifetime, 1, "LostToken's deadline");

    /// <summary>Moves the clock on a millisecond at a time until <paramref name="token"/> fires, at most <paramref name="most"/>; returns the fake time it took.</summary>
    private static TimeSpan AdvanceUntilFired(TestClock clock, CancellationToken token, TimeSpan most, string what)
    {
        var moved = TimeSpan.Zero;
        while (!token.IsCancellationRequested)
        {
            Assert.True(moved < most, $"{what}: did not fire within {most.TotalMilliseconds} ms of the client's time");
            clock.Advance(Ms);
            moved += Ms;
        }
        return moved;
    }

    [Fact]
    public async Task A_ttl_lease_is_renewed_every_third_of_its_ttl_of_the_clients_clock()
    {
        var clock = new TestClock();
        var client = ClientOn(clock);
        var period = TimeSpan.FromSeconds(10);
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/clock/ttl", 30)));
        var expires = (await Bounded(client.GetLeaseAsync(lease.Id)))!.ExpiresAt;

        for (var i = 1; i <= 4; i++)
        {
            // The keep-alive's wait for renewal i (the first counted from the grant, which may lie a hair ahead).
            var due = await clock.WaitArmedAsync(d => d >= period && d < period + TimeSpan.FromSeconds(1), i, $"the wait before renewal {i}");
            clock.Advance(due - Ms);
            Assert.Equal(expires, (await Bounded(client.GetLeaseAsync(lease.Id)))!.ExpiresAt);

            // The server counts in milliseconds of its own (real) clock: a renewal within the millisecond of the grant or of
            // the previous renewal would rightly leave the expiry where it was (seen on a quick run). Let that pass first.
            var renewedAt = expires!.Value - TimeSpan.FromSeconds(30);
            await WaitUntilAsync(() => Task.FromResult(DateTimeOffset.UtcNow >= renewedAt + TimeSpan.FromMilliseconds(3)), "the server's clock moved past the last renewal");
            var armedBefore = clock.Armed.Count;
            clock.Advance(Ms);
            var before = expires;
            try
            {
                await WaitUntilAsync(async () =>
                {
                    if ((expires = (await client.GetLeaseAsync(lease.Id))!.ExpiresAt) > before)
                    {
                        return true;
                    }
                    // A renewal that failed for now (on a loaded machine) is retried after a pause of the client's clock,
                    // shorter than the period: move the clock on to it, as time would, or the retry never comes.
                    var armed = clock.Armed;
                    if (armed.Count > armedBefore && armed[^1] < period)
                    {
                        armedBefore = armed.Count;
                        clock.Advance(armed[^1]);
                    }
                    return false;
                }, $"renewal {i} reached the server");
            }
            catch (Xunit.Sdk.XunitException e)
            {
                throw new Xunit.Sdk.XunitException($"{e.Message}; timers armed on the client's clock (ms): {string.Join(", ", clock.Armed.Select(d => d.TotalMilliseconds))}");
            }
        }
        // Four renewals in 40 s of the client's time, well past the 30 s ttl, and the lease never counted as lost.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(40), $"only {clock.Elapsed} passed");
        Assert.False(lease.LostToken.IsCancellationRequested);
    }

    [Fact]
    public async Task A_lease_without_a_ttl_keeps_its_session_alive_through_many_session_ttls_of_the_clients_clock()
    {
        var clock = new TestClock();
        var sessionTtl = TimeSpan.FromSeconds(60);
        var client = ClientOn(clock, o => o.SessionTtl = sessionTtl);
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/clock/session", null)));
        var period = LifetimeOf(null, sessionTtl) / 3;
        var expires = Assert.Single((await Bounded(client.Admin.ListSessionsAsync())).Sessions).ExpiresAt;

        for (var i = 1; i <= 10; i++)
        {
            await clock.WaitArmedAsync(period, i, $"the wait before keep-alive {i}");
            clock.Advance(period);
            // The next wait is a whole period only after a keep-alive that got through (a failed one is retried after half).
            await clock.WaitArmedAsync(period, i + 1, $"keep-alive {i} got through");
            if (Transport == ClientTransport.Http)
            {
                // Over HTTP each keep-alive reaches the server; natively the connection keeps the session, and a ping confirms it stands.
                var before = expires;
                expires = Assert.Single((await Bounded(client.Admin.ListSessionsAsync())).Sessions).ExpiresAt;
                Assert.True(expires > before, $"keep-alive {i} did not move the session's expiry ({before:O})");
            }
        }
        Assert.True(clock.Elapsed > sessionTtl * 2, $"only {clock.Elapsed} passed");
        Assert.False(lease.LostToken.IsCancellationRequested);
        Assert.Equal(lease.SessionId, (await Bounded(client.GetLeaseAsync(lease.Id)))?.Session);
    }

    [Theory]
    [InlineData(30.0)]
    [InlineData(null)]
    public async Task EarlyLostToken_then_LostToken_fire_on_the_clients_clock_when_the_server_is_down_for_longer_than_the_lease_lives(double? ttl)
    {
        var clock = new TestClock();
        var sessionTtl = TimeSpan.FromSeconds(30);
        var client = ClientOn(clock, o => o.SessionTtl = sessionTtl);
        var lease = await Bounded(client.AcquireAsync(PathOptions("/clock/down", ttl)));
        var lifetime = LifetimeOf(ttl, sessionTtl);
        var lead = TimeSpan.FromSeconds(5);
        var early = lease.EarlyLostToken(lead);

        await ArmedAsync(clock, lifetime);
        await Server.StopAsync(); // Refused from now on: no keep-alive gets through.

        // Nothing fires before its time, however the failed keep-alives and their retries go meanwhile...
        clock.Advance(lifetime - lead - Ms);
        Assert.False(early.IsCancellationRequested, "EarlyLostToken fired before the lifetime less the lead");
        // ...and each fires at it (the grant may be counted from a few milliseconds after the request was sent).
        AdvanceUntilFired(clock, early, TimeSpan.FromMilliseconds(50), "EarlyLostToken");
        Assert.False(lease.LostToken.IsCancellationRequested, "LostToken fired with EarlyLostToken, its lead early");
        clock.Advance(lead - TimeSpan.FromMilliseconds(100));
        Assert.False(lease.LostToken.IsCancellationRequested, "LostToken fired before the lease could have ended");
        AdvanceUntilFired(clock, lease.LostToken, TimeSpan.FromMilliseconds(150), "LostToken");

        // Disposing does not wait for the unreachable server past the lease's lifetime: its pause is on the same clock.
        var disposing = lease.DisposeAsync().AsTask();
        for (var i = 0; i < 100 && !disposing.IsCompleted; i++)
        {
            clock.Advance(lifetime / 10);
            await Task.WhenAny(disposing, Task.Delay(TimeSpan.FromMilliseconds(20)));
        }
        await Bounded(disposing);
    }

    [Theory]
    [InlineData(30.0)]
    [InlineData(null)]
    public async Task LostToken_fires_on_the_clients_clock_when_the_server_stops_answering(double? ttl)
    {
        // A silent network failure: nothing is refused, nothing answered. A renewal that hangs must not hold LostToken back.
        var clock = new TestClock();
        var sessionTtl = TimeSpan.FromSeconds(30);
        await using var proxy = new BlackholeProxy(Server.PortOf(Transport), Transport == ClientTransport.Native);
        var client = ClientOn(clock, o =>
        {
            o.Server = proxy.Address;
            o.SessionTtl = sessionTtl;
        });
        var lease = await Bounded(client.AcquireAsync(PathOptions("/clock/partitioned", ttl)));
        var lifetime = LifetimeOf(ttl, sessionTtl);

        await ArmedAsync(clock, lifetime);
        proxy.Partition();

        clock.Advance(lifetime - Ms);
        Assert.False(lease.LostToken.IsCancellationRequested, "LostToken fired before the lease could have ended");
        AdvanceUntilFired(clock, lease.LostToken, TimeSpan.FromMilliseconds(50), "LostToken");
    }

    [Fact]
    public async Task Retries_pause_100_200_400_ms_of_the_clients_clock_then_the_error_is_LeaseholdUnavailableException()
    {
        var clock = new TestClock();
        using var client = new LeaseholdClient(new LeaseholdClientOptions { Server = DeadAddress(), Retries = 3, TimeProvider = clock });

        var call = client.GetResourceAsync("/clock/retries");
        foreach (var pause in new[] { 100, 200, 400 })
        {
            await clock.WaitArmedAsync(TimeSpan.FromMilliseconds(pause), 1, $"the {pause} ms pause");
            Assert.False(call.IsCompleted, $"the call ended before its {pause} ms pause was over");
            clock.Advance(TimeSpan.FromMilliseconds(pause));
        }

        await Assert.ThrowsAsync<LeaseholdUnavailableException>(() => Bounded(call));
        Assert.Equal(0, clock.CountArmed(d => d == TimeSpan.FromMilliseconds(800)));
    }

    [Fact]
    public async Task Retry_After_is_honoured_and_RetryTimeout_bounds_the_retries_on_the_clients_clock()
    {
        var clock = new TestClock();
        await using var node = NoLeaderNode.For(Transport, retryAfterSeconds: 1);
        using var client = new LeaseholdClient(new LeaseholdClientOptions
        {
            Server = node.Address,
            Retries = 100,
            RetryTimeout = TimeSpan.FromSeconds(2.5),
            TimeProvider = clock,
        });

        var call = client.GetResourceAsync("/clock/no-leader");
        // Tries at 0 s, 1 s (the Retry-After asked for), 2 s, and 2.5 s (what is left of the timeout): then no more.
        await clock.WaitArmedAsync(TimeSpan.FromSeconds(1), 1, "the first pause, as Retry-After asks");
        clock.Advance(TimeSpan.FromSeconds(1));
        await clock.WaitArmedAsync(TimeSpan.FromSeconds(1), 2, "the second pause");
        clock.Advance(TimeSpan.FromSeconds(1));
        await clock.WaitArmedAsync(TimeSpan.FromSeconds(0.5), 1, "the last pause, cut to what is left of the retry timeout");
        Assert.False(call.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(0.5));

        var thrown = await Assert.ThrowsAsync<LeaseholdException>(() => Bounded(call));
        Assert.Equal("no-leader", thrown.Code);
        Assert.Equal(4, node.Requests);
    }

    [Fact]
    public async Task A_cancellation_during_a_retry_pause_is_the_callers_OperationCanceledException()
    {
        var clock = new TestClock();
        using var client = new LeaseholdClient(new LeaseholdClientOptions { Server = DeadAddress(), TimeProvider = clock });
        using var cancel = new CancellationTokenSource();

        var call = client.GetResourceAsync("/clock/cancelled", cancel.Token);
        await clock.WaitArmedAsync(TimeSpan.FromMilliseconds(100), 1, "the first pause");
        await cancel.CancelAsync();

        var thrown = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(call));
        Assert.Equal(cancel.Token, thrown.CancellationToken);
    }
}

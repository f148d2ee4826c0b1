namespace Leasehold.Client.Tests;

/// <summary>
/// What only the native transport does: one connection for everything a client sends, pushes that fire
/// <see cref="LeaseHandle.LostToken"/> at once, sessions kept alive by the connection (and by the client once
/// that connection is lost), and a node without the lead that names the leader.
/// </summary>
public sealed class NativeTests : ClientTestBase
{
    [Fact]
    public async Task One_connection_carries_every_request_of_a_client_however_many_run_at_once()
    {
        await using var relay = new DyingRelay(Server.NativePort, dropAnswers: false, ClientTransport.Native);
        var client = Server.CreateClient(ClientTransport.Native, o => o.Server = relay.Address);

        var work = Enumerable.Range(0, 32).Select(async i =>
        {
            await using var lease = await client.AcquireAsync(AcquireOptions.ForPath($"/many/{i}") with { Ttl = TimeSpan.FromSeconds(30) });
            Assert.Equal(lease.Id, Assert.Single((await client.GetResourceAsync($"/many/{i}")).Holders).Id);
        });
        await Bounded(Task.WhenAll(work));
        await using (var sessionBound = await Bounded(client.AcquireAsync(AcquireOptions.ForPath("/many/session"))))
        {
            Assert.NotNull(sessionBound.SessionId);
        }

        Assert.Equal(1, relay.Connections);
        Assert.Equal(0, (await Server.StatsAsync()).Leases);
    }

    [Theory]
    [InlineData(60.0)]
    [InlineData(null)]
    public async Task LostToken_fires_on_the_servers_push_long_before_the_next_renewal_would_tell(double? ttl)
    {
        // Renewals (or session checks) come every 20 s: only the push can tell the handle within seconds.
        var client = Server.CreateClient(ClientTransport.Native, o => o.SessionTtl = TimeSpan.FromSeconds(60));
        var admin = Server.CreateClient(ClientTransport.Http);
        await using var lease = await Bounded(client.AcquireAsync(AcquireOptions.ForPath("/pushed") with { Ttl = ttl is { } s ? TimeSpan.FromSeconds(s) : null }));

        await Bounded(admin.Admin.RevokeLeaseAsync(lease.Id));

        var after = await AssertFiresAsync(lease.LostToken, TimeSpan.FromSeconds(5), "LostToken after the lease was revoked");
        Assert.True(after < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_session_whose_connection_is_lost_is_kept_alive_from_the_next_and_the_lease_stays_held()
    {
        var relay = new DyingRelay(Server.NativePort, dropAnswers: false, ClientTransport.Native);
        var client = Server.CreateClient(ClientTransport.Native, o =>
        {
            o.Servers = [relay.Address, Server.NativeAddress];
            o.SessionTtl = TimeSpan.FromSeconds(1.5);
        });
        await using var lease = await Bounded(client.AcquireAsync(AcquireOptions.ForPath("/rebound")));
        var sessionId = lease.SessionId!.Value;

        await relay.DisposeAsync(); // The connection that bound the session breaks; the server stops keeping it alive.
        await Task.Delay(TimeSpan.FromSeconds(4.5)); // Three session ttls: only the client's own keep-alives can carry it.

        Assert.False(lease.LostToken.IsCancellationRequested, "LostToken fired though the session was kept alive");
        var read = await Bounded(Server.CreateClient().GetLeaseAsync(lease.Id));
        Assert.NotNull(read);
        Assert.Equal(sessionId, read.Session);
    }

    [Fact]
    public async Task A_node_without_the_lead_that_names_the_leader_sends_the_client_there_at_once()
    {
        await using var follower = new NativeNoLeaderNode("no-leader", retryAfterSeconds: 5, leader: Server.NativeAddress);
        var client = Server.CreateClient(ClientTransport.Native, o =>
        {
            o.Server = follower.Address;
            o.Retries = 1;
        });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using (var lease = await Bounded(client.AcquireAsync(AcquireOptions.ForPath("/redirected") with { Ttl = TimeSpan.FromSeconds(30) })))
        {
            Assert.Equal(lease.Id, Assert.Single((await Bounded(client.GetResourceAsync("/redirected"))).Holders).Id);
        }

        // Once, and without the 5 s the follower asked to wait: a leader's address is worth going to now.
        Assert.Equal(1, follower.Requests);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(0, (await Server.StatsAsync()).Leases);
    }

    [Fact]
    public async Task More_waiting_acquires_than_the_server_reads_at_once_keep_the_connection_and_are_all_granted()
    {
        // The server reads at most 4 requests in flight per connection, then stops reading it until answers go out.
        await using var server = await ClientTestServer.StartAsync(null, "--Leasehold:Durability=memory", "--Leasehold:Native:MaxInFlight=4");
        // A heartbeat every second: a PING stuck behind unread ACQUIREs would end the connection within one.
        var client = server.CreateClient(ClientTransport.Native, o => o.ConnectTimeout = TimeSpan.FromSeconds(1));
        var holder = server.CreateClient(ClientTransport.Http);
        var held = await Bounded(holder.AcquireAsync(AcquireOptions.ForPath("/backlog") with { Ttl = TimeSpan.FromSeconds(60) }));

        var granted = 0;
        var waiters = Enumerable.Range(0, 12).Select(async _ =>
        {
            await using var lease = await client.AcquireAsync(AcquireOptions.ForPath("/backlog") with { Ttl = TimeSpan.FromSeconds(60), Wait = TimeSpan.FromSeconds(30) });
            Interlocked.Increment(ref granted);
        }).ToList();
        // Held for several heartbeats while the waiters queue (an honest hold, not a wait for a condition).
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(0, Volatile.Read(ref granted));
        await held.DisposeAsync();

        await Bounded(Task.WhenAll(waiters));
        Assert.Equal(12, granted);
        Assert.Equal(0, (await server.StatsAsync()).Leases);
    }
}

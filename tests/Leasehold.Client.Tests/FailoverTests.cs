using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Client.Tests;

/// <summary>
/// A client of several servers (the nodes of a cluster): a node that is down, that has no leader or that
/// shuts down sends the request on to the next, and a retried acquire never takes a second lease.
/// </summary>
public abstract class FailoverTests : ContractTestBase
{
    private LeaseholdClient ClientOf(params Uri[] servers) => CreateClient(o => o.Servers = [.. servers]);

    [Theory]
    [InlineData(30.0)]
    [InlineData(null)]
    public async Task A_client_whose_first_server_is_down_acquires_renews_and_releases_on_the_next(double? ttl)
    {
        var client = ClientOf(DeadAddress(), Address);

        long id;
        await using (var lease = await Bounded(client.AcquireAsync(PathOptions("/failover/a", ttl))))
        {
            id = lease.Id;
            await Bounded(lease.RenewAsync());
            Assert.Equal(id, Assert.Single((await Bounded(client.GetResourceAsync("/failover/a"))).Holders).Id);
        }

        Assert.Null(await Bounded(client.GetLeaseAsync(id)));
        var stats = await Server.StatsAsync();
        Assert.Equal(0, stats.Leases);
        Assert.Equal(0, stats.Sessions);
    }

    [Fact]
    public async Task Renew_and_release_by_id_and_token_move_on_from_a_dead_server_too()
    {
        var live = CreateClient();
        var lease = await Bounded(live.AcquireAsync(PathOptions("/failover/b", 30)));
        var client = ClientOf(DeadAddress(), Address);

        await Bounded(client.RenewAsync(lease.Id, lease.Token, TimeSpan.FromSeconds(60)));
        await Bounded(client.ReleaseAsync(lease.Id, lease.Token));

        Assert.Equal(0, (await Server.StatsAsync()).Leases);
    }

    [Theory]
    [InlineData("no-leader")]
    [InlineData("shutting-down")]
    public async Task A_node_without_a_leader_or_shutting_down_sends_the_request_to_the_next_and_later_ones_stay_there(string code)
    {
        await using var node = NoLeaderNode.For(Transport, code, retryAfterSeconds: 0);
        var client = ClientOf(node.Address, Address);

        await using (var lease = await Bounded(client.AcquireAsync(PathOptions("/failover/c", 30))))
        {
            Assert.Equal(1, node.Requests);
            Assert.Equal(lease.Id, Assert.Single((await Bounded(client.GetResourceAsync("/failover/c"))).Holders).Id);
            await Bounded(lease.RenewAsync());
        }

        // The client moved to the node that answered: the one without a leader heard nothing more.
        Assert.Equal(1, node.Requests);
        Assert.Equal(0, (await Server.StatsAsync()).Leases);
    }

    [Fact]
    public async Task A_lone_node_without_a_leader_is_retried_as_often_as_allowed_then_its_answer_is_the_error()
    {
        await using var node = NoLeaderNode.For(Transport, retryAfterSeconds: 0);
        var client = CreateClient(o =>
        {
            o.Server = node.Address;
            o.Retries = 2;
        });

        var thrown = await Assert.ThrowsAsync<LeaseholdException>(() => Bounded(client.GetResourceAsync("/failover/d")));

        Assert.Equal("no-leader", thrown.Code);
        Assert.Equal(503, thrown.Status);
        Assert.Equal(3, node.Requests);
    }

    [Fact]
    public async Task An_acquire_whose_answer_was_lost_is_sent_again_with_its_key_and_gets_the_same_lease()
    {
        // The first node passes the acquire to the server but loses the answer, then dies.
        await using var relay = new DyingRelay(Server.PortOf(Transport), dropAnswers: true, Transport);
        var client = ClientOf(relay.Address, Address);

        var acquiring = client.AcquireAsync(PathOptions("/failover/lost", 30));
        await WaitUntilAsync(async () => (await Server.StatsAsync()).Leases == 1, "the server granted the first try");
        var direct = CreateClient();
        var granted = Assert.Single((await Bounded(direct.GetResourceAsync("/failover/lost"))).Holders);
        relay.Kill();

        // Sent again, a plain acquire would be refused (the path is held, by the first try); this one gets that lease.
        await using var lease = await Bounded(acquiring);
        Assert.Equal(granted.Id, lease.Id);
        Assert.Equal(granted.Fence, lease.Fence);
        Assert.Equal(1, (await Server.StatsAsync()).Leases);
        // The token is the lease's: the handle renews it.
        Assert.Equal(granted.Id, (await Bounded(lease.RenewAsync())).Id);
        Assert.False(lease.LostToken.IsCancellationRequested);
    }

    [Fact]
    public async Task A_waiting_acquire_whose_node_dies_waits_again_on_the_next_and_is_granted_once()
    {
        var direct = CreateClient();
        var holder = await Bounded(direct.AcquireAsync(PathOptions("/failover/wait", 30)));
        await using var relay = new DyingRelay(Server.PortOf(Transport), dropAnswers: false, Transport);
        var client = ClientOf(relay.Address, Address);

        var acquiring = client.AcquireAsync(PathOptions("/failover/wait", 30) with { Wait = TimeSpan.FromSeconds(15) });
        await WaitUntilAsync(async () => (await Server.StatsAsync()).Waiters == 1, "the first try queued");
        var first = Assert.Single((await Bounded(direct.GetResourceAsync("/failover/wait"))).Queue).Id;
        relay.Kill();
        // The server drops the first waiter when it notices; the client's retry queues anew, at the back.
        await WaitUntilAsync(async () => (await direct.GetResourceAsync("/failover/wait")).Queue.Select(w => w.Id).SequenceEqual([first + 1]),
            "the retry queued, alone");
        await holder.DisposeAsync();

        await using var lease = await Bounded(acquiring);
        Assert.Equal(lease.Id, Assert.Single((await Bounded(client.GetResourceAsync("/failover/wait"))).Holders).Id);
        Assert.Equal(1, (await Server.StatsAsync()).Leases);
    }

    [Fact]
    public async Task When_no_server_answers_the_error_names_them_all()
    {
        var (a, b) = (DeadAddress(), DeadAddress());
        var client = ClientOf(a, b);

        var thrown = await Assert.ThrowsAsync<LeaseholdUnavailableException>(() => Bounded(client.AcquireAsync(PathOptions("/failover/none", 30))));

        Assert.Contains(a.ToString(), thrown.Message, StringComparison.Ordinal);
        Assert.Contains(b.ToString(), thrown.Message, StringComparison.Ordinal);
        Assert.Contains(thrown.Server, new[] { a, b });
        Assert.Equal("unreachable", thrown.Code);
    }

    [Fact]
    public async Task Servers_bind_from_configuration_as_a_list()
    {
        var dead = DeadAddress();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Leasehold:Servers:0"] = dead.ToString(),
            ["Leasehold:Servers:1"] = Address.ToString(),
        }).Build();
        var services = new ServiceCollection();
        services.AddLeaseholdClient();
        services.Configure<LeaseholdClientOptions>(configuration.GetSection("Leasehold"));
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<LeaseholdClient>();

        Assert.Equal([dead, Address], client.Options.Servers);
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/failover/bound", 30)));
        Assert.NotNull(await Bounded(client.GetLeaseAsync(lease.Id)));
    }

    [Fact]
    public async Task A_bound_Server_alone_still_means_that_one_server()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Leasehold:Server"] = Address.ToString(),
        }).Build();
        var options = new LeaseholdClientOptions();
        configuration.GetSection("Leasehold").Bind(options);

        Assert.Empty(options.Servers);
        using var client = new LeaseholdClient(options);
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/failover/one", 30)));
        Assert.Equal(lease.Id, Assert.Single((await Bounded(client.GetResourceAsync("/failover/one"))).Holders).Id);
    }
}

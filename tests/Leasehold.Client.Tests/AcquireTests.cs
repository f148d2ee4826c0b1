using System.Diagnostics;

namespace Leasehold.Client.Tests;

/// <summary>AcquireAsync and TryAcquireAsync against the real server: granted, refused after the wait, released by dispose.</summary>
public abstract class AcquireTests : ContractTestBase
{
    [Theory]
    [InlineData(30.0)]
    [InlineData(null)]
    public async Task AcquireAsync_is_granted_and_the_server_shows_the_holder(double? ttl)
    {
        var client = CreateClient(o => o.Owner = "client-tests");
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/jobs/nightly", ttl)));

        Assert.Equal(["/jobs/nightly"], lease.Paths);
        Assert.Matches("^[0-9a-f]{32}$", lease.Token);
        Assert.True(lease.Fence > 0);
        Assert.Equal("client-tests", lease.Lease.Owner);
        Assert.False(lease.LostToken.IsCancellationRequested);

        var resource = await Bounded(client.GetResourceAsync("/jobs/nightly"));
        var holder = Assert.Single(resource.Holders);
        Assert.Equal(lease.Id, holder.Id);
        Assert.Null(holder.Token);
        Assert.Empty(resource.Queue);

        var read = await Bounded(client.GetLeaseAsync(lease.Id));
        Assert.NotNull(read);
        Assert.Equal(lease.Fence, read.Fence);
        if (ttl is null)
        {
            // Without a ttl of its own the lease is bound to the handle's session.
            Assert.NotNull(lease.SessionId);
            Assert.Equal(lease.SessionId, read.Session);
            Assert.Null(read.Ttl);
        }
        else
        {
            Assert.Null(lease.SessionId);
            Assert.Null(read.Session);
            Assert.Equal(ttl, read.Ttl);
        }
    }

    [Theory]
    [InlineData(30.0)]
    [InlineData(null)]
    public async Task TryAcquireAsync_returns_null_when_held_and_the_wait_elapses(double? ttl)
    {
        var holder = CreateClient();
        var other = CreateClient();
        await using var held = await Bounded(holder.AcquireAsync(PathOptions("/db/orders", ttl)));

        var clock = Stopwatch.StartNew();
        var refused = await Bounded(other.TryAcquireAsync(PathOptions("/db/orders", ttl) with { Wait = TimeSpan.FromSeconds(0.5) }));

        Assert.Null(refused);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.45), $"answered after {clock.Elapsed.TotalSeconds:0.000} s, before the wait ran out");
        var resource = await Bounded(other.GetResourceAsync("/db/orders"));
        Assert.Equal(held.Id, Assert.Single(resource.Holders).Id);
        Assert.Empty(resource.Queue);
        // The refused request's session (when it had one) was closed, not left to expire.
        var stats = await Server.StatsAsync();
        Assert.Equal(1, stats.Leases);
        Assert.Equal(ttl is null ? 1 : 0, stats.Sessions);
    }

    [Fact]
    public async Task AcquireAsync_throws_LeaseholdTimeoutException_which_is_a_TimeoutException()
    {
        var holder = CreateClient();
        var other = CreateClient();
        await using var held = await Bounded(holder.AcquireAsync(PathOptions("/lab/rack-2", 30)));

        var thrown = await Assert.ThrowsAnyAsync<TimeoutException>(() => Bounded(other.AcquireAsync(PathOptions("/lab/rack-2", 30) with { Wait = TimeSpan.FromSeconds(0.2) })));

        Assert.IsType<LeaseholdTimeoutException>(thrown);
        Assert.Equal(held.Id, Assert.Single((await Bounded(other.GetResourceAsync("/lab/rack-2"))).Holders).Id);
    }

    [Fact]
    public async Task A_wait_of_zero_tries_once_and_a_free_path_is_granted_at_once()
    {
        var client = CreateClient();
        await using var first = await Bounded(client.AcquireAsync(PathOptions("/once", 30)));

        var clock = Stopwatch.StartNew();
        Assert.Null(await Bounded(client.TryAcquireAsync(PathOptions("/once", 30))));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "a wait of zero should answer at once");
    }

    [Theory]
    [InlineData(30.0)]
    [InlineData(null)]
    public async Task Await_using_releases_the_lease_and_the_path_is_free_afterwards(double? ttl)
    {
        var client = CreateClient();
        var other = CreateClient();
        long id;
        await using (var lease = await Bounded(client.AcquireAsync(PathOptions("/licenses/matlab", ttl))))
        {
            id = lease.Id;
            Assert.Single((await Bounded(client.GetResourceAsync("/licenses/matlab"))).Holders);
        }

        Assert.Null(await Bounded(client.GetLeaseAsync(id)));
        Assert.Empty((await Bounded(client.GetResourceAsync("/licenses/matlab"))).Holders);
        var stats = await Server.StatsAsync();
        Assert.Equal(0, stats.Leases);
        Assert.Equal(0, stats.Sessions);
        await using var next = await Bounded(other.TryAcquireAsync(PathOptions("/licenses/matlab", ttl)));
        Assert.NotNull(next);
    }

    [Fact]
    public async Task Disposing_twice_is_harmless()
    {
        var client = CreateClient();
        var lease = await Bounded(client.AcquireAsync(PathOptions("/twice", 30)));
        await Bounded(lease.DisposeAsync().AsTask());
        await Bounded(lease.DisposeAsync().AsTask());
        Assert.False(lease.LostToken.IsCancellationRequested);
        Assert.Null(await Bounded(client.GetLeaseAsync(lease.Id)));
    }

    [Theory]
    [InlineData(30.0)]
    [InlineData(null)]
    public async Task A_waiting_acquire_is_granted_when_the_holder_releases(double? ttl)
    {
        var holder = CreateClient();
        var waiter = CreateClient();
        var held = await Bounded(holder.AcquireAsync(PathOptions("/handoff", ttl)));

        var waiting = waiter.AcquireAsync(PathOptions("/handoff", ttl) with { Wait = TimeSpan.FromSeconds(15) });
        await WaitUntilAsync(async () => (await Bounded(waiter.GetResourceAsync("/handoff"))).Queue.Length == 1, "the request queues");
        Assert.False(waiting.IsCompleted);
        await Bounded(held.DisposeAsync().AsTask());

        await using var granted = await Bounded(waiting);
        Assert.True(granted.Fence > held.Fence);
    }

    [Fact]
    public async Task Several_paths_are_granted_together_and_shared_holders_coexist()
    {
        var a = CreateClient();
        var b = CreateClient();
        await using var both = await Bounded(a.AcquireAsync(AcquireOptions.ForPaths("/db/users", "/db/orders") with { Shared = true, Ttl = TimeSpan.FromSeconds(30) }));
        await using var alsoShared = await Bounded(b.AcquireAsync(AcquireOptions.ForPath("/db/users") with { Shared = true, Ttl = TimeSpan.FromSeconds(30) }));

        Assert.Equal(["/db/users", "/db/orders"], both.Paths);
        Assert.Equal("shared", both.Lease.Mode);
        Assert.Equal(2, (await Bounded(a.GetResourceAsync("/db/users"))).Holders.Length);
        Assert.Null(await Bounded(b.TryAcquireAsync(PathOptions("/db/orders", 30))));
        var list = await Bounded(a.ListAsync("/db"));
        Assert.Equal(["/db/orders", "/db/users"], list.Resources.Select(r => r.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Renewing_through_the_handle_takes_a_new_ttl()
    {
        var client = CreateClient();
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/renew", 30)));

        var renewed = await Bounded(lease.RenewAsync(TimeSpan.FromSeconds(120)));

        Assert.Equal(120, renewed.Ttl);
        Assert.Equal(lease.Id, renewed.Id);
        Assert.True(renewed.ExpiresAt > lease.Lease.ExpiresAt);
    }
}

namespace Leasehold.Client.Tests;

/// <summary><see cref="LeaseholdClient.Admin"/> against a real server.</summary>
public abstract class AdminTests : ContractTestBase
{
    [Fact]
    public async Task Revoke_ends_the_holders_lease_and_fires_its_lost_token()
    {
        var client = CreateClient();
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/rig/1", 60) with { Owner = "stuck" }));

        var revoked = await Bounded(client.Admin.RevokeLeaseAsync(lease.Id));

        Assert.Equal((lease.Id, "stuck"), (revoked.Id, revoked.Owner));
        Assert.Null(revoked.Token);
        Assert.Null(await client.GetLeaseAsync(lease.Id));
        // The holder learns it at its next renewal.
        await Assert.ThrowsAsync<LeaseholdNotFoundException>(() => Bounded(lease.RenewAsync()));
        await Assert.ThrowsAsync<LeaseholdNotFoundException>(() => Bounded(client.Admin.RevokeLeaseAsync(lease.Id)));
    }

    [Fact]
    public async Task End_session_ends_the_session_and_its_leases()
    {
        var client = CreateClient();
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/rig/2", null)));
        var sessionId = lease.SessionId!.Value;

        var ended = await Bounded(client.Admin.EndSessionAsync(sessionId));

        Assert.Equal((sessionId, 1), (ended.Id, ended.Leases));
        Assert.Null(await client.GetLeaseAsync(lease.Id));
        await Assert.ThrowsAsync<LeaseholdNotFoundException>(() => Bounded(client.Admin.EndSessionAsync(sessionId)));
    }

    [Fact]
    public async Task Drain_refuses_a_try_with_draining_until_undrained()
    {
        var client = CreateClient();

        var drain = await Bounded(client.Admin.DrainAsync("/lab/rack 1"));
        Assert.Equal(("/lab/rack 1", "anonymous"), (drain.Path, drain.Actor));
        Assert.Equal(["/lab/rack 1"], (await Bounded(client.Admin.ListDrainsAsync())).Select(d => d.Path));

        var refused = await Assert.ThrowsAsync<LeaseholdException>(() => Bounded(client.TryAcquireAsync(PathOptions("/lab/rack 1/phone", 30))));
        Assert.Equal(("draining", 409), (refused.Code, refused.Status));

        await Bounded(client.Admin.UndrainAsync("/lab/rack 1"));
        Assert.Empty(await Bounded(client.Admin.ListDrainsAsync()));
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/lab/rack 1/phone", 30)));
        await Assert.ThrowsAsync<LeaseholdNotFoundException>(() => Bounded(client.Admin.UndrainAsync("/lab/rack 1")));
    }

    [Fact]
    public async Task Listings_filter_and_carry_no_tokens()
    {
        var client = CreateClient();
        await using var a = await Bounded(client.AcquireAsync(PathOptions("/x/1", 60) with { Owner = "alpha" }));
        await using var b = await Bounded(client.AcquireAsync(PathOptions("/y/1", null) with { Owner = "beta" }));

        var all = await Bounded(client.Admin.ListLeasesAsync());
        Assert.Equal([a.Id, b.Id], all.Leases.Select(l => l.Id));
        Assert.All(all.Leases, l => Assert.Null(l.Token));
        Assert.Equal([a.Id], (await Bounded(client.Admin.ListLeasesAsync(new LeaseFilter { Owner = "alpha" }))).Leases.Select(l => l.Id));
        Assert.Equal([b.Id], (await Bounded(client.Admin.ListLeasesAsync(new LeaseFilter { Prefix = "/y" }))).Leases.Select(l => l.Id));
        Assert.Empty((await Bounded(client.Admin.ListLeasesAsync(new LeaseFilter { OlderThan = TimeSpan.FromHours(1) }))).Leases);
        Assert.True((await Bounded(client.Admin.ListLeasesAsync(new LeaseFilter { Limit = 1 }))).Truncated);

        var sessions = await Bounded(client.Admin.ListSessionsAsync(new LeaseFilter { Owner = "beta" }));
        var session = Assert.Single(sessions.Sessions);
        Assert.Equal(b.SessionId, session.Id);
        Assert.Null(session.Token);
    }
}

using Leasehold.Core.Pools;

namespace Leasehold.Core.Tests.Pools;

/// <summary>Administrators' commands: revoke, end a session, drain and undrain; and the principal counts.</summary>
public class AdminTests : PoolTestBase
{
    private OperationResult<Lease> Revoke(long id, string? actor = "root")
        => Engine.Revoke(new RevokeLease { Now = Now, LeaseId = id, Actor = actor });

    private DrainResult Drain(string path, string? actor = "ops")
        => Engine.Drain(new DrainPrefix { Now = Now, Path = P(path), Actor = actor });

    private OperationResult<Drain> Undrain(string path)
        => Engine.Undrain(new UndrainPrefix { Now = Now, Path = P(path), Actor = "ops" });

    [Fact]
    public void Revoke_ends_the_lease_without_its_token_and_records_the_actor()
    {
        var held = Granted(Acquire("/a", owner: "job"));
        var waiter = Queued(Acquire("/a", waitMs: 5_000));
        Now += 10;

        Assert.Equal(ErrorCode.None, Revoke(held.Id).Error);

        var outcome = Assert.Single(Engine.Outcomes);
        Assert.Equal(waiter.Id, outcome.WaiterId);
        Assert.True(outcome.Lease!.Fence > held.Fence);
        var entry = Assert.Single(Engine.History);
        Assert.Equal((held.Id, EndReason.Revoked, "root", Now), (entry.LeaseId, entry.Reason, entry.EndedBy, entry.EndedAt));
        // The holder's own token no longer finds it.
        Assert.Equal(ErrorCode.NotFound, Engine.Release(new ReleaseLease { Now = Now, LeaseId = held.Id, Token = held.Token }).Error);
    }

    [Fact]
    public void Revoking_an_unknown_lease_is_not_found_and_changes_nothing()
    {
        var held = Granted(Acquire("/a"));
        var changes = Engine.Changes;

        var result = Revoke(held.Id + 1);

        Assert.Equal(ErrorCode.NotFound, result.Error);
        Assert.Equal(changes, Engine.Changes);
        Assert.Single(Engine.Leases);
        Assert.Empty(Engine.History);
    }

    [Fact]
    public void An_anonymous_administrator_is_recorded_as_anonymous()
    {
        var held = Granted(Acquire("/a"));
        Revoke(held.Id, actor: null);
        Assert.Equal(LockEngine.AnonymousActor, Assert.Single(Engine.History).EndedBy);
    }

    [Fact]
    public void Ending_a_session_ends_its_leases_as_if_it_expired_and_names_the_actor()
    {
        var session = Engine.Open(new OpenSession { Now = Now, TtlMs = 10_000, Token = NewToken(), Principal = "alice" }).Value!;
        var lease = Granted(Acquire("/a", sessionId: session.Id));
        var waiter = Queued(Acquire("/a", sessionId: session.Id, waitMs: 5_000));

        var result = Engine.EndSession(new EndSession { Now = Now, SessionId = session.Id, Actor = "root" });

        Assert.Equal(ErrorCode.None, result.Error);
        Assert.Null(Engine.GetSession(session.Id));
        var entries = Engine.History.ToList();
        Assert.Contains(entries, e => e.LeaseId == lease.Id && e.Reason == EndReason.SessionEnded && e.EndedBy == "root");
        Assert.Contains(Engine.Outcomes, o => o.WaiterId == waiter.Id && o.Error == ErrorCode.SessionEnded);
        Assert.Equal(default, Engine.CountsOf("alice"));
        Assert.Equal(ErrorCode.NotFound, Engine.EndSession(new EndSession { Now = Now, SessionId = session.Id }).Error);
    }

    [Fact]
    public void A_drained_prefix_grants_nothing_at_or_under_it_and_a_try_says_draining()
    {
        Assert.True(Drain("/lab/rack-1").Started);

        Assert.Equal(ErrorCode.Draining, Acquire("/lab/rack-1").Error);
        Assert.Equal(ErrorCode.Draining, Acquire("/lab/rack-1/phone-7", LockMode.Shared).Error);
        // Above it: only a claim that locks its children is kept off.
        Assert.Equal(ErrorCode.Draining, Acquire("/lab").Error);
        Granted(Acquire("/lab", lockChildren: false));
        Granted(Acquire("/lab/rack-2"));
    }

    [Fact]
    public void Existing_leases_run_on_and_a_waiter_keeps_its_place_until_undrain()
    {
        var held = Granted(Acquire("/a/x", ttlMs: 1_000));
        Drain("/a");
        var waiter = Queued(Acquire("/a/x", waitMs: 60_000));
        var younger = Queued(Acquire("/a/x", waitMs: 60_000));

        // Renewing is still allowed; expiry frees the path but the drain holds the waiters back.
        Assert.Equal(ErrorCode.None, Engine.Renew(new RenewLease { Now = Now, LeaseId = held.Id, Token = held.Token }).Error);
        Now += 1_000;
        Engine.Advance(Now);
        Assert.Empty(Engine.Leases);
        Assert.Empty(Engine.Outcomes);
        Assert.Equal(2, Engine.QueueLength);

        Assert.Equal(ErrorCode.None, Undrain("/a").Error);

        var granted = Assert.Single(Engine.Outcomes);
        Assert.Equal(waiter.Id, granted.WaiterId);
        Assert.True(granted.Lease!.Fence > held.Fence);
        Assert.Equal(younger.Id, Assert.Single(Engine.Queue).Id);
    }

    [Fact]
    public void Draining_twice_changes_nothing_and_undraining_what_is_not_drained_is_not_found()
    {
        var first = Drain("/a", actor: "ops");
        var changes = Engine.Changes;

        var second = Drain("/a", actor: "someone-else");

        Assert.False(second.Started);
        Assert.Same(first.Drain, second.Drain);
        Assert.Equal(changes, Engine.Changes);
        Assert.Equal(ErrorCode.NotFound, Undrain("/b").Error);
        Assert.Equal(ErrorCode.NotFound, Undrain("/a/x").Error);
        Assert.Equal(ErrorCode.None, Undrain("/a").Error);
        Assert.Empty(Engine.Drains);
    }

    [Fact]
    public void A_pool_request_skips_drained_resources_and_a_try_says_draining_when_only_drains_refuse_it()
    {
        DeclareAll("/pool", "{}", "r1", "r2");
        Drain("/pool/r1");

        var lease = Granted(Take("/pool"));
        Assert.Equal(["/pool/r2"], ChosenBy(lease, 0));

        // r1 is free but drained, r2 is held: busy, but only because of the drain.
        Assert.Equal(ErrorCode.Draining, Take("/pool").Error);
        Drain("/pool/r2");
        Engine.Release(new ReleaseLease { Now = Now, LeaseId = lease.Id, Token = lease.Token });
        Assert.Equal(ErrorCode.Draining, Take("/pool").Error);
        Assert.Equal(ErrorCode.NoMatch, Take("/pool", count: 3).Error);
    }

    [Fact]
    public void Drains_survive_a_snapshot_and_restore()
    {
        Drain("/lab/rack-1");
        var restored = LockEngine.Restore(Engine.Capture());

        var drain = Assert.Single(restored.Drains);
        Assert.Equal(("/lab/rack-1", "ops", Now), (drain.Path.Value, drain.Actor, drain.Since));
        Assert.Equal(ErrorCode.Draining, restored.Acquire(new AcquireLease { Now = Now, Paths = Ps("/lab/rack-1/x"), Token = 1 }).Error);
    }

    [Fact]
    public void Principal_counts_follow_grants_waits_sessions_and_ends()
    {
        var lease = Granted(Engine.Acquire(new AcquireLease { Now = Now, Paths = Ps("/a"), Principal = "alice", Token = NewToken() }));
        Queued(Engine.Acquire(new AcquireLease { Now = Now, Paths = Ps("/a"), Principal = "alice", WaitMs = 1_000, Token = NewToken() }));
        Engine.Open(new OpenSession { Now = Now, TtlMs = 10_000, Principal = "alice", Token = NewToken() });
        Granted(Acquire("/b"));

        Assert.Equal(new PrincipalCounts(1, 1, 1), Engine.CountsOf("alice"));
        Assert.Equal(new PrincipalCounts(1, 0, 0), Engine.CountsOf(null));
        Assert.Equal(default, Engine.CountsOf("bob"));

        Revoke(lease.Id);

        // The waiter was granted: one lease, no waiter.
        Assert.Equal(new PrincipalCounts(1, 1, 0), Engine.CountsOf("alice"));
        Assert.Equal("alice", Assert.Single(Engine.History).Principal);
    }
}

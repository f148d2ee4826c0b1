namespace Leasehold.Core.Tests.Pools;

/// <summary>Reuse: an owner asking again for what it already holds gets the same lease back, renewed.</summary>
public class PoolReuseTests : PoolTestBase
{
    private const string A = """{"os": "a"}""";

    [Fact]
    public void Reuse_returns_the_owners_lease_renewed()
    {
        DeclareAll("/pool", A, "a", "b");
        var lease = Granted(Take("/pool", A, ttlMs: 1000, owner: "ci-1", reuse: true));
        var fence = Engine.LastFence;

        Now += 600;
        var again = Granted(Take("/pool", A, ttlMs: 5000, owner: "ci-1", reuse: true));

        Assert.Same(lease, again);
        Assert.Equal(fence, Engine.LastFence);
        Assert.Equal(5000, lease.TtlMs);
        Assert.Equal(Now + 5000, lease.ExpiresAt);
        Assert.Single(Engine.Leases);

        // Without a new ttl the lease's own is restarted; the renewal is what the expiry goes by.
        Now += 4000;
        Assert.Same(lease, Granted(Take("/pool", A, owner: "ci-1", reuse: true)));
        Assert.Equal(Now + 5000, lease.ExpiresAt);
        Now += 4999;
        Engine.Advance(Now);
        Assert.Same(lease, Engine.GetLease(lease.Id));
        Now += 1;
        Engine.Advance(Now);
        Assert.Null(Engine.GetLease(lease.Id));
    }

    [Fact]
    public void Reuse_compares_the_compacted_requirement_text_and_the_pools()
    {
        DeclareAll("/pool", A, "a", "b", "c");
        var lease = Granted(AcquirePool([G("/pool", A)], owner: "o", reuse: true));

        Assert.Same(lease, Granted(AcquirePool([G("/pool", """{ "os":"a" }""")], owner: "o", reuse: true)));
        Assert.NotSame(lease, Granted(AcquirePool([G("/pool", "{}")], owner: "o", reuse: true)));
        Assert.Equal(2, Engine.Leases.Count);
    }

    [Fact]
    public void No_reuse_without_the_flag_an_owner_or_the_same_owner()
    {
        DeclareAll("/pool", A, "a", "b", "c", "d");
        var lease = Granted(Take("/pool", A, owner: "o", reuse: true));

        Assert.NotSame(lease, Granted(Take("/pool", A, owner: "o")));
        Assert.NotSame(lease, Granted(Take("/pool", A, owner: "other", reuse: true)));
        Assert.NotSame(lease, Granted(Take("/pool", A, reuse: true)));
        Assert.Equal(4, Engine.Leases.Count);
    }

    [Fact]
    public void Reuse_never_finds_a_lease_taken_with_another_token()
    {
        // Owner names are public: naming a victim's owner must neither return its lease nor change its ttl.
        DeclareAll("/pool", A, "a", "b");
        var victim = Granted(Take("/pool", A, ttlMs: 60_000, owner: "carol"));
        var expires = victim.ExpiresAt;

        var other = Granted(Take("/pool", A, ttlMs: 1000, owner: "carol", reuse: true));

        Assert.NotSame(victim, other);
        Assert.NotEqual(victim.Token, other.Token);
        Assert.Equal(expires, victim.ExpiresAt);
        Assert.Equal(60_000, victim.TtlMs);
    }

    [Fact]
    public void Reuse_needs_the_same_groups_in_the_same_order()
    {
        Declare("/p1/a", A);
        Declare("/p1/b", A);
        Declare("/p2/a", A);
        Declare("/p2/b", A);
        var lease = Granted(AcquirePool([G("/p1", A), G("/p2", A)], owner: "o", reuse: true));

        Assert.NotSame(lease, Granted(AcquirePool([G("/p2", A), G("/p1", A)], owner: "o", reuse: true)));
        Assert.Equal(2, Engine.Leases.Count);
        Failed(ErrorCode.Locked, AcquirePool([G("/p1", A)], owner: "o", reuse: true));
        Assert.Same(lease, Granted(AcquirePool([G("/p1", A), G("/p2", A)], owner: "o", reuse: true)));
    }

    [Fact]
    public void Reuse_does_not_look_at_the_count()
    {
        // As documented: the same pools and requirement texts; the count is not compared.
        DeclareAll("/pool", A, "a", "b", "c");
        var lease = Granted(Take("/pool", A, count: 1, owner: "o", reuse: true));

        var again = Granted(Take("/pool", A, count: 2, owner: "o", reuse: true));

        Assert.Same(lease, again);
        Assert.Single(again.Paths);
    }

    [Fact]
    public void Reuse_never_returns_a_path_lease()
    {
        DeclareAll("/pool", A, "a", "b");
        Granted(Acquire("/pool/a", owner: "o"));

        var lease = Granted(Take("/pool", A, owner: "o", reuse: true));

        Assert.Equal("/pool/b", Only(lease));
    }

    [Fact]
    public void Reuse_still_answers_NoMatch_and_InvalidQuery_first()
    {
        DeclareAll("/pool", A, "a");
        Granted(Take("/pool", A, owner: "o"));

        Failed(ErrorCode.NoMatch, Take("/pool", A, count: 2, owner: "o", reuse: true));
        Failed(ErrorCode.InvalidQuery, Take("/pool", """{"$x": 1}""", owner: "o", reuse: true));
    }

    [Fact]
    public void Reuse_with_a_released_lease_grants_a_new_one()
    {
        DeclareAll("/pool", A, "a", "b");
        var lease = Granted(Take("/pool", A, owner: "o", reuse: true));
        Release(lease);

        var fresh = Granted(Take("/pool", A, owner: "o", reuse: true));

        Assert.NotEqual(lease.Id, fresh.Id);
        Assert.Equal("/pool/b", Only(fresh));
    }

    [Fact]
    public void With_several_candidates_reuse_returns_the_oldest_lease_in_a_live_and_a_restored_engine()
    {
        DeclareAll("/pool", A, "a", "b", "c", "d");
        var filler = Granted(Take("/pool", A, owner: "x"));
        // Two leases with the owner's name-keyed token (taken without reuse, so the second is a new lease).
        var older = Granted(AcquirePool([G("/pool", A)], owner: "o", token: OwnerTokens.For("o")));
        Release(filler);
        var newer = Granted(AcquirePool([G("/pool", A)], owner: "o", token: OwnerTokens.For("o"))); // takes the freed dictionary slot of filler
        var restored = StateCopy.RestoreCopy(Engine);

        var live = Granted(Take("/pool", A, owner: "o", reuse: true));
        var fromSnapshot = restored.Acquire(new AcquireLease
        {
            Now = Now,
            Paths = [],
            Groups = [G("/pool", A)],
            Owner = "o",
            Reuse = true,
            Token = OwnerTokens.For("o"),
        });

        Assert.Same(older, live);
        Assert.NotSame(newer, live);
        Assert.Equal(older.Id, fromSnapshot.Lease!.Id);
    }

    [Fact]
    public void Reuse_never_hands_one_principals_lease_to_another_naming_its_owner()
    {
        DeclareAll("/pool", A, "a", "b");
        AcquireLease Ask(string? principal) => new()
        {
            Now = Now,
            Paths = [],
            Groups = [G("/pool", A)],
            Owner = "o",
            Reuse = true,
            Token = OwnerTokens.For("o"),
            Principal = principal,
        };
        var theirs = Granted(Engine.Acquire(Ask("ci")));
        var other = Engine.Acquire(Ask("lab"));
        Assert.NotNull(other.Lease);
        Assert.NotEqual(theirs.Id, other.Lease!.Id);
        Assert.Same(theirs, Granted(Engine.Acquire(Ask("ci"))));
    }
}

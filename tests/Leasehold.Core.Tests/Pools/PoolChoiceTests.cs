using Leasehold.Core.Pools;

namespace Leasehold.Core.Tests.Pools;

/// <summary>Which free declared resources a pool request gets: matching, at or under the pool, least recently released first.</summary>
public class PoolChoiceTests : PoolTestBase
{
    [Fact]
    public void Chooses_declared_resources_at_or_under_the_pool_that_match()
    {
        Declare("/lab/phones/p1", """{"os": "android"}""");
        Declare("/lab/phones/p2", """{"os": "ios"}""");
        Declare("/lab/phones/old/p3", """{"os": "android"}""");
        Declare("/lab/phones", """{"os": "android"}"""); // the pool path itself is a resource too
        Declare("/other/p4", """{"os": "android"}""");

        var lease = Granted(Take("/lab/phones", """{"os": "android"}""", count: 3));

        Assert.Equal(["/lab/phones", "/lab/phones/old/p3", "/lab/phones/p1"], Sorted(PathsOf(lease)));
        Assert.Equal(LockMode.Exclusive, lease.Mode);
        Assert.Equal(1, lease.Limit);
        Assert.Equal(ErrorCode.NoMatch, Take("/lab/phones", """{"os": "android"}""", count: 4).Error);
    }

    [Fact]
    public void Never_released_resources_go_in_path_order_ordinally()
    {
        DeclareAll("/pool", "{}", "r2", "r10", "R3", "r1");

        var lease = Granted(Take("/pool", count: 3));

        // Ordinal: "R3" < "r1" < "r10" < "r2".
        Assert.Equal(["/pool/R3", "/pool/r1", "/pool/r10"], PathsOf(lease));
        Assert.Equal(["/pool/R3", "/pool/r1", "/pool/r10"], ChosenBy(lease, 0));
    }

    [Fact]
    public void Least_recently_released_first_spreads_use_over_the_pool()
    {
        DeclareAll("/pool", "{}", "a", "b", "c");

        var used = Enumerable.Range(0, 7).Select(_ => TakeAndRelease("/pool")).ToArray();

        Assert.Equal(["/pool/a", "/pool/b", "/pool/c", "/pool/a", "/pool/b", "/pool/c", "/pool/a"], used);
        var seqs = Engine.ListDeclared(P("/pool")).Select(r => r.ReleasedSeq).ToArray();
        Assert.Equal(3, seqs.Distinct().Count());
        Assert.All(seqs, s => Assert.True(s > 0));
    }

    [Fact]
    public void A_never_released_resource_beats_every_released_one_even_if_declared_later()
    {
        DeclareAll("/pool", "{}", "b", "c");
        Assert.Equal("/pool/b", TakeAndRelease("/pool"));
        Declare("/pool/z");

        Assert.Equal("/pool/c", TakeAndRelease("/pool"));
        Assert.Equal("/pool/z", TakeAndRelease("/pool"));
        Assert.Equal("/pool/b", TakeAndRelease("/pool"));
    }

    [Fact]
    public void Releasing_a_multi_resource_lease_marks_its_resources_in_its_order()
    {
        DeclareAll("/pool", "{}", "a", "b", "c", "d");
        var two = Granted(Take("/pool", count: 2));
        Assert.Equal(["/pool/a", "/pool/b"], PathsOf(two));
        Release(two);

        // c and d were never released, then a (released before b).
        Assert.Equal(["/pool/c", "/pool/d", "/pool/a"], PathsOf(Granted(Take("/pool", count: 3))));
        Assert.True(Engine.GetDeclared(P("/pool/a"))!.ReleasedSeq < Engine.GetDeclared(P("/pool/b"))!.ReleasedSeq);
    }

    [Fact]
    public void Closing_a_session_ends_its_leases_in_id_order_so_release_order_and_the_next_choice_are_fixed()
    {
        DeclareAll("/pool", "{}", "a", "b", "c", "d", "e");
        var session = OpenSession();
        var first = Granted(AcquirePool([G("/pool")], sessionId: session.Id));  // a
        var second = Granted(AcquirePool([G("/pool")], sessionId: session.Id)); // b
        var third = Granted(AcquirePool([G("/pool")], sessionId: session.Id));  // c
        Release(first);                                                        // a released first
        var fourth = Granted(AcquirePool([G("/pool")], sessionId: session.Id)); // d (never released beats a)
        Assert.Equal(["/pool/a", "/pool/b", "/pool/c", "/pool/d"], new[] { first, second, third, fourth }.Select(Only));
        // The session's set of lease ids reuses the slot the first one left, so enumerating it would give the
        // fourth lease first; a restored engine fills it in id order. Both must end them in id order.
        var restored = StateCopy.RestoreCopy(Engine);

        CloseSession(session);
        Assert.Equal(ErrorCode.None, restored.Close(new CloseSession { Now = Now, SessionId = session.Id, Token = session.Token }).Error);

        var ended = Engine.History.Where(h => h.Reason == EndReason.SessionEnded).Select(h => h.LeaseId);
        Assert.Equal([second.Id, third.Id, fourth.Id], ended);
        Assert.Equal(ended, restored.History.Where(h => h.Reason == EndReason.SessionEnded).Select(h => h.LeaseId));
        var seqs = Engine.ListDeclared(P("/pool")).Select(r => (r.Path.Value, r.ReleasedSeq)).ToList();
        Assert.Equal(seqs, restored.ListDeclared(P("/pool")).Select(r => (r.Path.Value, r.ReleasedSeq)));
        // e never released, then a, then b, c, d in the order their leases' ids came.
        Assert.Equal(["/pool/e", "/pool/a", "/pool/b", "/pool/c", "/pool/d"], PathsOf(Granted(Take("/pool", count: 5))));
    }

    [Fact]
    public void Path_leases_count_as_use_too()
    {
        DeclareAll("/pool", "{}", "a", "b");
        Release(Hold("/pool/a"));

        Assert.Equal("/pool/b", TakeAndRelease("/pool"));
        Assert.Equal("/pool/a", TakeAndRelease("/pool"));
    }

    [Fact]
    public void An_expired_lease_counts_as_released()
    {
        DeclareAll("/pool", "{}", "a", "b");
        var lease = Granted(Take("/pool", ttlMs: 100));
        Assert.Equal("/pool/a", Only(lease));
        Now += 100;
        Assert.Equal(1, Engine.Advance(Now));

        Assert.Equal("/pool/b", TakeAndRelease("/pool"));
    }

    [Fact]
    public void Held_resources_are_skipped_and_the_holder_rule_applies()
    {
        DeclareAll("/pool", "{}", "a", "b", "c", "d");
        Declare("/pool/sub/e");
        Hold("/pool/a");                                      // same path
        Hold("/pool/b/inner");                                // below, locks its parents
        Hold("/pool/c", LockMode.Shared);                     // shared blocks exclusive
        Hold("/pool/sub");                                    // above, locks its children

        Assert.Equal("/pool/d", Only(Granted(Take("/pool"))));
        Failed(ErrorCode.Locked, Take("/pool"));
    }

    [Fact]
    public void Holders_that_do_not_lock_in_that_direction_leave_the_resource_free()
    {
        DeclareAll("/pool", "{}", "a", "b");
        Hold("/pool/a/inner", lockParents: false);
        Hold("/pool", LockMode.Exclusive, lockChildren: false);

        var lease = Granted(Take("/pool", count: 2));

        Assert.Equal(["/pool/a", "/pool/b"], PathsOf(lease));
    }

    [Fact]
    public void A_semaphore_on_a_resource_path_is_not_free_for_a_pool_request()
    {
        DeclareAll("/pool", "{}", "a", "b");
        Hold("/pool/a", limit: 3);

        Assert.Equal("/pool/b", Only(Granted(Take("/pool"))));
        Failed(ErrorCode.Locked, Take("/pool"));
    }

    [Fact]
    public void A_pool_lease_blocks_path_requests_like_any_exclusive_lease()
    {
        DeclareAll("/pool", "{}", "a");
        Granted(Take("/pool"));

        Assert.False(IsLockable("/pool/a"));
        Assert.False(IsLockable("/pool"));
        Assert.False(IsLockable("/pool/a/x"));
        Assert.False(IsLockable("/pool/a", LockMode.Shared));
        Assert.True(IsLockable("/pool/b"));
    }

    [Fact]
    public void Requirements_use_mongo_query_operators()
    {
        Declare("/pool/r0", """{"os": "a", "n": 0}""");
        Declare("/pool/r1", """{"os": "b", "n": 1}""");
        Declare("/pool/r2", """{"os": "a", "n": 2}""");
        Declare("/pool/r3", """{"os": "b", "n": 3, "tags": ["x", "y"]}""");

        string[] Matching(string require) => [.. Granted(Take("/pool", require, count: CountOf(require))).Paths.Select(p => p.Value)];
        int CountOf(string require) => require switch
        {
            """{"n": {"$gt": 1}}""" => 2,
            """{"os": {"$in": ["b"]}}""" => 2,
            _ => 1,
        };

        var gt = Matching("""{"n": {"$gt": 1}}""");
        Assert.Equal(["/pool/r2", "/pool/r3"], gt);
        ReleaseAll();
        Assert.Equal(["/pool/r1", "/pool/r3"], Sorted(Matching("""{"os": {"$in": ["b"]}}""")));
        ReleaseAll();
        Assert.Equal(["/pool/r3"], Matching("""{"tags": "y"}"""));
        ReleaseAll();
        Assert.Equal(["/pool/r0"], Matching("""{"$or": [{"n": 0}, {"os": "c"}]}"""));
        ReleaseAll();
        Assert.Equal(ErrorCode.NoMatch, Take("/pool", """{"n": {"$gte": 4}}""").Error);
    }

    [Fact]
    public void Requirement_text_is_compacted_for_the_lease()
    {
        Declare("/pool/a", """{"os": "a"}""");

        var lease = Granted(Take("/pool", """{ "os" :   "a" }"""));

        Assert.Equal("""{"os":"a"}""", lease.Groups![0].Requirement.Text);
        Assert.Equal("/pool", lease.Groups[0].Group.Pool.Value);
        Assert.Equal(1, lease.Groups[0].Group.Count);
    }

    private void ReleaseAll()
    {
        foreach (var lease in Engine.Leases.ToList())
        {
            Assert.Equal(ErrorCode.None, Release(lease).Error);
        }
    }
}

using Leasehold.Core.Pools;

namespace Leasehold.Core.Tests.Pools;

/// <summary>Several requirement groups in one request: all at once or none, distinct resources, scarcest group first.</summary>
public class PoolGroupTests : PoolTestBase
{
    private const string Android = """{"os": "android"}""";
    private const string Sim = """{"carrier": "x"}""";

    private void DeclareLab()
    {
        Declare("/lab/phones/p1", Android);
        Declare("/lab/phones/p2", Android);
        Declare("/lab/sims/s1", Sim);
        Declare("/lab/sims/s2", Sim);
    }

    private AcquireResult PhoneAndSim(long waitMs = 0)
        => AcquirePool([G("/lab/phones", Android), G("/lab/sims", Sim)], waitMs);

    [Fact]
    public void One_phone_and_one_sim_come_in_one_lease()
    {
        DeclareLab();

        var lease = Granted(PhoneAndSim());

        Assert.Equal(["/lab/phones/p1"], ChosenBy(lease, 0));
        Assert.Equal(["/lab/sims/s1"], ChosenBy(lease, 1));
        Assert.Equal(["/lab/phones/p1", "/lab/sims/s1"], PathsOf(lease));
        var second = Granted(PhoneAndSim());
        Assert.Equal(["/lab/phones/p2", "/lab/sims/s2"], PathsOf(second));
        Assert.True(second.Fence > lease.Fence);
    }

    [Fact]
    public void No_free_sim_means_no_phone_either()
    {
        DeclareLab();
        Hold("/lab/sims/s1");
        Hold("/lab/sims/s2");
        var changes = Engine.Changes;

        Failed(ErrorCode.Locked, PhoneAndSim());

        Assert.Equal(changes, Engine.Changes);
        Assert.True(IsLockable("/lab/phones/p1"));
        Assert.True(IsLockable("/lab/phones/p2"));
        Assert.Equal(2, Engine.Leases.Count);
    }

    [Fact]
    public void A_waiting_multi_group_request_takes_nothing_until_every_group_can_be_served()
    {
        DeclareLab();
        var sim1 = Hold("/lab/sims/s1");
        Hold("/lab/sims/s2");
        var waiter = Queued(PhoneAndSim(waitMs: 10_000));
        Assert.Equal(["/lab/phones/p1", "/lab/phones/p2", "/lab/sims/s1", "/lab/sims/s2"], Candidates(waiter));
        Assert.Equal(2, Engine.Leases.Count);

        // The phones are free but claimed by the waiter: a newer phone request may not take them.
        Failed(ErrorCode.Locked, Take("/lab/phones", Android));

        Now += 5;
        Release(sim1);

        var lease = GrantedOutcome(waiter);
        Assert.Equal(["/lab/phones/p1"], ChosenBy(lease, 0));
        Assert.Equal(["/lab/sims/s1"], ChosenBy(lease, 1));
        Assert.Equal(5, lease.WaitedMs);
        Assert.Equal(0, Engine.QueueLength);
    }

    [Fact]
    public void The_same_resource_is_never_given_to_two_groups()
    {
        DeclareAll("/pool", "{}", "a", "b", "c");

        var lease = Granted(AcquirePool([G("/pool", "{}", 2), G("/pool", "{}", 1)]));

        Assert.Equal(["/pool/a", "/pool/b"], ChosenBy(lease, 0));
        Assert.Equal(["/pool/c"], ChosenBy(lease, 1));
        Assert.Equal(3, PathsOf(lease).Distinct().Count());
    }

    [Fact]
    public void Two_groups_cannot_share_the_only_matching_resource()
    {
        Declare("/pool/a", """{"os": "a"}""");
        Declare("/pool/b", """{"os": "b"}""");

        // Each group alone has a match, but the two groups need two distinct os=a resources: never
        // grantable, even with everything free, so NoMatch at once rather than a wait that cannot end.
        Failed(ErrorCode.NoMatch, AcquirePool([G("/pool", """{"os": "a"}"""), G("/pool", """{"os": "a"}""")]));
        Assert.Empty(Engine.Leases);
        var lease = Granted(AcquirePool([G("/pool", """{"os": "a"}"""), G("/pool", "{}")]));
        Assert.Equal(["/pool/a", "/pool/b"], PathsOf(lease));
    }

    [Fact]
    public void When_choosing_group_by_group_leaves_a_group_short_a_matching_over_the_free_resources_serves_all()
    {
        Declare("/pool/r1", """{"x": 1, "y": 1}""");
        Declare("/pool/r2", """{"x": 1, "y": 1}""");
        Declare("/pool/r3", """{"x": 1}""");
        Declare("/pool/r4", """{"y": 1}""");
        PoolGroup[] groups = [G("/pool", """{"x": 1}""", 2), G("/pool", """{"y": 1}""", 2)];

        // Three candidates each, so x chooses first (request order) and takes r1, r2: y would be left with r4
        // alone. The fallback matches slots x0, x1, y0, y1 in that order, each trying its group's free
        // resources in preference order (all never released: by path) and moving earlier slots along
        // augmenting paths: x0 r1; x1 r1 (x0 -> r2); y0 r1 (x1 -> r2, x0 -> r3); y1 r1 (y0 -> r4).
        var lease = Granted(AcquirePool(groups));

        var x = ChosenBy(lease, 0);
        var y = ChosenBy(lease, 1);
        Assert.Equal(2, x.Length);
        Assert.Equal(2, y.Length);
        Assert.Empty(x.Intersect(y));
        Assert.All(x, p => Assert.Contains(p, new[] { "/pool/r1", "/pool/r2", "/pool/r3" }));
        Assert.All(y, p => Assert.Contains(p, new[] { "/pool/r1", "/pool/r2", "/pool/r4" }));
        Assert.Equal(["/pool/r2", "/pool/r3"], x);  // each group's choice listed by path
        Assert.Equal(["/pool/r1", "/pool/r4"], y);
        Assert.Equal(["/pool/r2", "/pool/r3", "/pool/r1", "/pool/r4"], PathsOf(lease));
        Assert.False(IsLockable("/pool/r3"));
        Assert.False(IsLockable("/pool/r4"));
    }

    [Fact]
    public void The_matching_is_only_a_fallback_a_group_by_group_choice_that_works_stands()
    {
        Declare("/pool/r1", """{"x": 1, "y": 1}""");
        Declare("/pool/r2", """{"x": 1, "y": 1}""");
        Declare("/pool/r3", """{"x": 1}""");
        Declare("/pool/r4", """{"y": 1}""");

        // Group by group: x takes r1, then y takes r2. The matching would have moved x to r2 to give y r1
        // (x0 r1; y0 r1, x0 -> r2), so this shows it is not used when the greedy choice succeeds.
        var lease = Granted(AcquirePool([G("/pool", """{"x": 1}"""), G("/pool", """{"y": 1}""")]));

        Assert.Equal(["/pool/r1"], ChosenBy(lease, 0));
        Assert.Equal(["/pool/r2"], ChosenBy(lease, 1));
    }

    [Fact]
    public void When_even_the_matching_cannot_serve_every_group_the_request_waits_or_is_Locked()
    {
        Declare("/pool/r1", """{"x": 1, "y": 1}""");
        Declare("/pool/r2", """{"x": 1, "y": 1}""");
        Declare("/pool/r3", """{"x": 1}""");
        Declare("/pool/r4", """{"y": 1}""");
        var r4 = Hold("/pool/r4");
        PoolGroup[] groups = [G("/pool", """{"x": 1}""", 2), G("/pool", """{"y": 1}""", 2)];

        // Possible with everything free (so not NoMatch), but y has only r1, r2 free and x then only r3.
        Failed(ErrorCode.Locked, AcquirePool(groups));
        var waiter = Queued(AcquirePool(groups, waitMs: 1000));
        Assert.Equal(["/pool/r1", "/pool/r2", "/pool/r3", "/pool/r4"], Candidates(waiter));

        Release(r4);

        var lease = GrantedOutcome(waiter);
        Assert.Equal(["/pool/r2", "/pool/r3"], ChosenBy(lease, 0));
        Assert.Equal(["/pool/r1", "/pool/r4"], ChosenBy(lease, 1));
    }

    [Fact]
    public void The_group_with_fewer_candidates_chooses_first()
    {
        Declare("/pool/a", """{"os": "a"}""");
        Declare("/pool/b", """{"os": "b"}""");

        // Listed first, "any" would take /pool/a (path order) and leave the os=a group nothing.
        var lease = Granted(AcquirePool([G("/pool", "{}"), G("/pool", """{"os": "a"}""")]));

        Assert.Equal(["/pool/b"], ChosenBy(lease, 0));
        Assert.Equal(["/pool/a"], ChosenBy(lease, 1));
        Assert.Equal(["/pool/b", "/pool/a"], PathsOf(lease)); // paths in group order
    }

    [Fact]
    public void Candidates_are_counted_as_declared_matches_not_free_ones()
    {
        // "any" has 3 candidates, os=a has 2; os=a chooses first even though only one of them is free.
        Declare("/pool/a1", """{"os": "a"}""");
        Declare("/pool/a2", """{"os": "a"}""");
        Declare("/pool/b", """{"os": "b"}""");
        Hold("/pool/a2");

        var lease = Granted(AcquirePool([G("/pool", "{}"), G("/pool", """{"os": "a"}""")]));

        Assert.Equal(["/pool/b"], ChosenBy(lease, 0));
        Assert.Equal(["/pool/a1"], ChosenBy(lease, 1));
    }

    [Fact]
    public void Equal_candidate_counts_keep_the_request_order()
    {
        Declare("/pool/a", """{"n": 1}""");
        Declare("/pool/b", """{"n": 1}""");

        var lease = Granted(AcquirePool([G("/pool", """{"n": 1}"""), G("/pool", """{"n": {"$gte": 1}}""")]));

        Assert.Equal(["/pool/a"], ChosenBy(lease, 0));
        Assert.Equal(["/pool/b"], ChosenBy(lease, 1));
    }

    [Fact]
    public void Groups_may_name_different_pools_and_choose_least_recently_released_in_each()
    {
        DeclareLab();
        Release(Hold("/lab/phones/p1"));
        Release(Hold("/lab/sims/s2"));

        var lease = Granted(PhoneAndSim());

        Assert.Equal(["/lab/phones/p2", "/lab/sims/s1"], PathsOf(lease));
    }

    [Fact]
    public void Groups_with_a_count_take_that_many_each()
    {
        DeclareAll("/pool", """{"k": 1}""", "a", "b", "c");
        DeclareAll("/pool", """{"k": 2}""", "x", "y", "z");

        var lease = Granted(AcquirePool([G("/pool", """{"k": 1}""", 2), G("/pool", """{"k": 2}""", 3)]));

        Assert.Equal(["/pool/a", "/pool/b"], ChosenBy(lease, 0));
        Assert.Equal(["/pool/x", "/pool/y", "/pool/z"], ChosenBy(lease, 1));
        Assert.Equal(ErrorCode.Locked, AcquirePool([G("/pool", """{"k": 1}""", 1), G("/pool", """{"k": 2}""", 1)]).Error);
        Assert.Equal("/pool/c", Only(Granted(Take("/pool"))));
    }
}

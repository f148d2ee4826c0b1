namespace Leasehold.Core.Tests.Pools;

/// <summary>Waiting pool requests: granted by push, in arrival order, keeping their claim on every candidate.</summary>
public class PoolQueueTests : PoolTestBase
{
    private const string Rare = """{"kind": "rare"}""";
    private const string Common = """{"kind": "common"}""";

    [Fact]
    public void A_waiting_pool_request_is_granted_when_a_matching_resource_is_released()
    {
        Declare("/pool/a", """{"os": "a"}""");
        Declare("/pool/b", """{"os": "b"}""");
        var a = Granted(Take("/pool", """{"os": "a"}"""));
        var b = Granted(Take("/pool", """{"os": "b"}"""));
        var waiter = Queued(Take("/pool", """{"os": "a"}""", waitMs: 10_000, ttlMs: 500, owner: "w"));
        Assert.Equal(["/pool/a"], Candidates(waiter));

        Now += 10;
        Release(b);
        Assert.Empty(DrainOutcomes());          // a non-matching resource frees nobody
        Now += 10;
        Release(a);

        var lease = GrantedOutcome(waiter);
        Assert.Equal("/pool/a", Only(lease));
        Assert.Equal(20, lease.WaitedMs);
        Assert.Equal(Now, lease.AcquiredAt);
        Assert.Equal(Now + 500, lease.ExpiresAt);
        Assert.Equal("w", lease.Owner);
        Assert.Equal(Engine.LastFence, lease.Fence);
        Assert.Equal(0, Engine.QueueLength);
    }

    [Fact]
    public void Expiry_of_the_holder_grants_the_waiter()
    {
        DeclareAll("/pool", "{}", "a");
        Granted(Take("/pool", ttlMs: 100));
        var waiter = Queued(Take("/pool", waitMs: 1000));

        Now += 100;
        Engine.Advance(Now);

        Assert.Equal("/pool/a", Only(GrantedOutcome(waiter)));
    }

    [Fact]
    public void A_waiter_gets_the_least_recently_released_of_what_is_free_then()
    {
        DeclareAll("/pool", "{}", "a", "b", "c");
        var all = Granted(Take("/pool", count: 3));
        var waiter = Queued(Take("/pool", count: 2, waitMs: 1000));
        Assert.Equal(["/pool/a", "/pool/b", "/pool/c"], Candidates(waiter));

        Release(all);

        Assert.Equal(["/pool/a", "/pool/b"], PathsOf(GrantedOutcome(waiter)));
    }

    [Fact]
    public void Pool_waiters_are_served_in_arrival_order()
    {
        DeclareAll("/pool", "{}", "a", "b");
        var held = Granted(Take("/pool", count: 2));
        var first = Queued(Take("/pool", waitMs: 1000, owner: "first"));
        var second = Queued(Take("/pool", waitMs: 1000, owner: "second"));
        var third = Queued(Take("/pool", count: 2, waitMs: 1000, owner: "third"));
        var fourth = Queued(Take("/pool", waitMs: 1000, owner: "fourth"));
        Assert.Equal([first.Id, second.Id, third.Id, fourth.Id], QueueIds());

        // Both free at once: first and second get one each; third (needs two) and fourth (behind it) wait.
        Release(held);
        var outcomes = DrainOutcomes();
        Assert.Equal([first.Id, second.Id], outcomes.Select(o => o.WaiterId));
        Assert.Equal("/pool/a", Only(outcomes[0].Lease!));
        Assert.Equal("/pool/b", Only(outcomes[1].Lease!));
        Assert.Equal([third.Id, fourth.Id], QueueIds());

        // One comes back: third needs two, and fourth may not overtake it.
        Release(outcomes[0].Lease!);
        Assert.Empty(DrainOutcomes());
        Assert.Equal([third.Id, fourth.Id], QueueIds());

        Release(outcomes[1].Lease!);
        var thirdLease = GrantedOutcome(third);
        Assert.Equal(["/pool/a", "/pool/b"], PathsOf(thirdLease));
        Release(thirdLease);
        Assert.Equal("/pool/a", Only(GrantedOutcome(fourth)));
    }

    [Fact]
    public void A_newer_request_may_not_take_what_an_older_waiter_could_use()
    {
        DeclareAll("/pool", "{}", "a", "b");
        Granted(Take("/pool"));
        var big = Queued(Take("/pool", count: 2, waitMs: 1000));

        // /pool/b is free, but the older waiter wants it.
        Failed(ErrorCode.Locked, Take("/pool"));
        var late = Queued(Take("/pool", waitMs: 1000));
        Assert.Equal([big.Id, late.Id], QueueIds());
        Assert.Single(Engine.Leases);
    }

    [Fact]
    public void A_waiter_claims_only_its_candidates()
    {
        Declare("/pool/a", Rare);
        DeclareAll("/pool", Common, "b", "c");
        Granted(Take("/pool", Rare));
        var waiter = Queued(Take("/pool", Rare, waitMs: 1000));
        Assert.Equal(["/pool/a"], Candidates(waiter));

        Assert.Equal(["/pool/b", "/pool/c"], PathsOf(Granted(Take("/pool", count: 2))));
    }

    [Fact]
    public void The_rare_resource_waiter_is_not_starved_by_take_any_requests()
    {
        Declare("/pool/rare", Rare);
        DeclareAll("/pool", Common, "c1", "c2");
        var rareHolder = Granted(Take("/pool", Rare));
        var rareWaiter = Queued(Take("/pool", Rare, waitMs: 60_000, owner: "needs-rare"));

        // A stream of take-any requests, each held for a while, overlapping: they get only common ones.
        var anyLeases = new Queue<Lease>();
        for (var i = 0; i < 10; i++)
        {
            Now += 10;
            if (i == 3)
            {
                Release(rareHolder); // the rare resource is free now, and least recently used of all
                Assert.Equal("/pool/rare", Only(GrantedOutcome(rareWaiter)));
            }
            var any = Take("/pool", owner: "any");
            if (any.Lease is { } lease)
            {
                Assert.NotEqual("/pool/rare", Only(lease));
                anyLeases.Enqueue(lease);
            }
            else
            {
                Assert.Equal(ErrorCode.Locked, any.Error);
            }
            if (anyLeases.Count == 2)
            {
                Release(anyLeases.Dequeue());
            }
        }
        Assert.Equal(0, Engine.QueueLength);
    }

    [Fact]
    public void The_rare_waiter_gets_the_rare_resource_even_when_take_any_requests_release_it_first()
    {
        // The rare one is the least recently released, so a take-any request would choose it if it could.
        Declare("/pool/rare", Rare);
        DeclareAll("/pool", Common, "c1", "c2");
        var rareHolder = Granted(Take("/pool", Rare));
        var rareWaiter = Queued(Take("/pool", Rare, waitMs: 60_000));
        for (var i = 0; i < 5; i++)
        {
            Now += 1;
            Assert.StartsWith("/pool/c", TakeAndRelease("/pool"), StringComparison.Ordinal);
        }
        Assert.Same(rareWaiter, Assert.Single(Engine.Queue));
        Now += 1;
        Release(rareHolder);

        Assert.Equal("/pool/rare", Only(GrantedOutcome(rareWaiter)));
    }

    [Fact]
    public void A_take_any_waiter_older_than_the_rare_waiter_is_served_first()
    {
        Declare("/pool/rare", Rare);
        DeclareAll("/pool", Common, "c1");
        var all = Granted(Take("/pool", count: 2));
        var any = Queued(Take("/pool", waitMs: 1000));
        var rare = Queued(Take("/pool", Rare, waitMs: 1000));

        Release(all);

        // Released in path order (c1, then rare): any takes c1, the older of the two; rare gets rare.
        var outcomes = DrainOutcomes();
        Assert.Equal([any.Id, rare.Id], outcomes.Select(o => o.WaiterId));
        Assert.Equal("/pool/c1", Only(outcomes[0].Lease!));
        Assert.Equal("/pool/rare", Only(outcomes[1].Lease!));
    }

    [Fact]
    public void A_path_waiter_keeps_pool_requests_off_a_free_resource_it_waits_for()
    {
        DeclareAll("/pool", "{}", "a", "b");
        var x = Hold("/x");
        var pathWaiter = Queued(AcquireMany(["/pool/a", "/x"], waitMs: 1000)); // /pool/a is free; /x is not

        Assert.Equal("/pool/b", Only(Granted(Take("/pool"))));                  // not /pool/a, though it comes first
        Failed(ErrorCode.Locked, Take("/pool"));
        var poolWaiter = Queued(Take("/pool", waitMs: 1000));
        Assert.Equal(["/pool/a", "/pool/b"], Candidates(poolWaiter));

        Release(x);

        var outcome = Assert.Single(DrainOutcomes());
        Assert.Equal(pathWaiter.Id, outcome.WaiterId);
        Assert.Equal(["/pool/a", "/x"], PathsOf(outcome.Lease!));
        Assert.Equal([poolWaiter.Id], QueueIds());
    }

    [Fact]
    public void An_older_path_waiter_on_an_ancestor_keeps_a_pool_waiter_off_the_resources_below()
    {
        DeclareAll("/pool", "{}", "a", "b");
        Hold("/pool/a");
        var holder = Hold("/pool/b");
        var ancestorWaiter = Queued(Acquire("/pool", waitMs: 1000)); // waits for both a and b
        var poolWaiter = Queued(Take("/pool", waitMs: 1000));

        Release(holder);

        // b is free, but the older (still blocked) waiter on /pool covers it.
        Assert.Empty(DrainOutcomes());
        Assert.Equal([ancestorWaiter.Id, poolWaiter.Id], QueueIds());
        Failed(ErrorCode.Locked, Take("/pool"));
    }

    [Fact]
    public void A_waiter_for_the_rare_resource_and_a_common_one_keeps_the_freed_rare_one_from_take_any_requests()
    {
        Declare("/pool/rare", Rare);
        DeclareAll("/pool", Common, "c1", "c2");
        var rareHolder = Granted(Take("/pool", Rare));
        var commons = Granted(Take("/pool", Common, count: 2));
        var both = Queued(AcquirePool([G("/pool", Rare), G("/pool", Common)], waitMs: 60_000));

        Now += 1;
        Release(rareHolder);
        Assert.Empty(DrainOutcomes()); // no common free yet

        // /pool/rare is free and the least recently released, yet every take-any request is refused.
        for (var i = 0; i < 5; i++)
        {
            Now += 1;
            Failed(ErrorCode.Locked, Take("/pool"));
        }
        var anyWaiter = Queued(Take("/pool", waitMs: 60_000));

        Now += 1;
        Release(commons);

        var outcomes = DrainOutcomes();
        Assert.Equal([both.Id, anyWaiter.Id], outcomes.Select(o => o.WaiterId));
        Assert.Equal(["/pool/rare"], ChosenBy(outcomes[0].Lease!, 0));
        Assert.Equal(["/pool/c1"], ChosenBy(outcomes[0].Lease!, 1));
        Assert.Equal("/pool/c2", Only(outcomes[1].Lease!));
    }

    [Fact]
    public void A_pool_waiter_keeps_path_requests_off_its_candidates()
    {
        DeclareAll("/pool", "{}", "a", "b");
        var a = Hold("/pool/a");
        var poolWaiter = Queued(Take("/pool", count: 2, waitMs: 1000));

        // /pool/b is free, but the pool waiter could use it: a path request waits behind it.
        Failed(ErrorCode.Locked, Acquire("/pool/b"));
        Failed(ErrorCode.Locked, Acquire("/pool/b", LockMode.Shared));
        Failed(ErrorCode.Locked, Acquire("/pool"));                      // covers its candidates
        Granted(Acquire("/pool/c"));                                     // not a candidate
        var pathWaiter = Queued(Acquire("/pool/b", waitMs: 1000));

        Release(a);
        var outcomes = DrainOutcomes();
        Assert.Equal([poolWaiter.Id], outcomes.Select(o => o.WaiterId));
        Assert.Equal(["/pool/b", "/pool/a"], PathsOf(outcomes[0].Lease!)); // b never released, a just released
        Release(outcomes[0].Lease!);
        GrantedOutcome(pathWaiter);
    }

    [Fact]
    public void A_pool_waiter_that_cannot_be_served_keeps_younger_path_waiters_on_its_candidates_waiting()
    {
        DeclareAll("/pool", "{}", "a", "b");
        var a = Hold("/pool/a");
        var b = Hold("/pool/b");
        var poolWaiter = Queued(Take("/pool", count: 2, waitMs: 1000));
        var pathWaiter = Queued(Acquire("/pool/b", waitMs: 1000));

        Release(b);
        Assert.Empty(DrainOutcomes());
        Release(a);
        Assert.Equal([poolWaiter.Id], DrainOutcomes().Select(o => o.WaiterId));
        Assert.Equal([pathWaiter.Id], QueueIds());
    }

    [Fact]
    public void An_older_path_waiter_granted_in_the_same_pass_takes_its_resource_first()
    {
        DeclareAll("/pool", "{}", "a", "b");
        var both = Granted(Take("/pool", count: 2));
        var pathWaiter = Queued(Acquire("/pool/a", waitMs: 1000));
        var poolWaiter = Queued(Take("/pool", waitMs: 1000));

        Release(both);

        var outcomes = DrainOutcomes();
        Assert.Equal([pathWaiter.Id, poolWaiter.Id], outcomes.Select(o => o.WaiterId));
        Assert.Equal("/pool/b", Only(outcomes[1].Lease!));
    }

    [Fact]
    public void A_pool_waiter_past_its_deadline_fails_with_Locked()
    {
        DeclareAll("/pool", "{}", "a");
        Granted(Take("/pool"));
        var waiter = Queued(Take("/pool", waitMs: 100));

        Now += 99;
        Engine.Advance(Now);
        Assert.Empty(DrainOutcomes());
        Now += 1;
        Engine.Advance(Now);

        SingleOutcome(waiter, ErrorCode.Locked);
        Assert.Equal(0, Engine.QueueLength);
        Assert.Empty(Engine.GetResource(P("/pool/a")).Queue);
    }

    [Fact]
    public void A_waiter_whose_resource_frees_at_its_deadline_is_granted()
    {
        DeclareAll("/pool", "{}", "a");
        Granted(Take("/pool", ttlMs: 100));
        var waiter = Queued(Take("/pool", waitMs: 100));

        Now += 100;
        Engine.Advance(Now);

        GrantedOutcome(waiter);
    }

    [Fact]
    public void Cancelling_a_pool_waiter_frees_its_claims()
    {
        DeclareAll("/pool", "{}", "a", "b");
        Hold("/pool/a");
        var waiter = Queued(Take("/pool", count: 2, waitMs: 1000));
        var pathWaiter = Queued(Acquire("/pool/b", waitMs: 1000));

        Assert.True(Cancel(waiter));

        GrantedOutcome(pathWaiter);
        Assert.Empty(Engine.GetResource(P("/pool/a")).Queue);
    }

    [Fact]
    public void Closing_the_session_fails_its_pool_waiter_and_ends_its_pool_lease()
    {
        DeclareAll("/pool", "{}", "a");
        var session = OpenSession();
        var lease = Granted(AcquirePool([G("/pool")], sessionId: session.Id));
        var other = OpenSession();
        var waiter = Queued(AcquirePool([G("/pool")], waitMs: 1000, sessionId: other.Id));
        var third = Queued(Take("/pool", waitMs: 1000));

        CloseSession(other);
        SingleOutcome(waiter, ErrorCode.SessionEnded);
        CloseSession(session);

        Assert.Null(Engine.GetLease(lease.Id));
        Assert.Equal("/pool/a", Only(GrantedOutcome(third)));
    }
}

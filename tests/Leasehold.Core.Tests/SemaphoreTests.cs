namespace Leasehold.Core.Tests;

public class SemaphoreTests : EngineTestBase
{
    [Fact]
    public void Limit_n_admits_n_exclusive_holders_of_the_same_path()
    {
        var holders = Enumerable.Range(0, 3).Select(_ => Hold("/pool", limit: 3)).ToList();
        Assert.All(holders, l => Assert.Equal(3, l.Limit));
        Failed(ErrorCode.Locked, Acquire("/pool", limit: 3));
        Release(holders[1]);
        Granted(Acquire("/pool", limit: 3));
        Failed(ErrorCode.Locked, Acquire("/pool", limit: 3));
    }

    [Fact]
    public void Plain_lock_is_a_semaphore_of_one()
    {
        var lease = Hold("/a", limit: 1);
        Failed(ErrorCode.Locked, Acquire("/a"));
        Release(lease);
        Hold("/a");
        Failed(ErrorCode.Locked, Acquire("/a", limit: 1));
    }

    [Fact]
    public void A_different_limit_than_the_holders_is_LimitMismatch_at_once_even_with_a_wait()
    {
        Hold("/pool", limit: 2);
        Failed(ErrorCode.LimitMismatch, Acquire("/pool", limit: 3));
        Failed(ErrorCode.LimitMismatch, Acquire("/pool", limit: 3, waitMs: 5000));
        Failed(ErrorCode.LimitMismatch, Acquire("/pool"));
        Assert.Equal(0, Engine.QueueLength);
        Assert.Single(Engine.Leases);
    }

    [Fact]
    public void LimitMismatch_wins_over_Locked_on_another_path_of_the_request()
    {
        Hold("/busy");
        Hold("/pool", limit: 2);
        Failed(ErrorCode.LimitMismatch, AcquireMany(["/busy", "/pool"], limit: 1, waitMs: 100));
        Assert.Equal(0, Engine.QueueLength);
    }

    [Fact]
    public void Mismatch_is_judged_only_against_holders_of_the_same_path()
    {
        Hold("/pool", limit: 2);
        // Another limit on a child is no mismatch; the semaphore holder still covers its children.
        Failed(ErrorCode.Locked, Acquire("/pool/x", limit: 5));
        Granted(Acquire("/other", limit: 5));
    }

    [Fact]
    public void Once_all_holders_are_gone_a_new_limit_may_be_used()
    {
        var a = Hold("/pool", limit: 2);
        var b = Hold("/pool", limit: 2);
        Release(a);
        Failed(ErrorCode.LimitMismatch, Acquire("/pool", limit: 4));
        Release(b);
        Assert.Equal(4, Hold("/pool", limit: 4).Limit);
    }

    [Fact]
    public void Shared_request_with_a_limit_is_an_invalid_argument()
    {
        Failed(ErrorCode.InvalidArgument, Acquire("/a", LockMode.Shared, limit: 1));
        Failed(ErrorCode.InvalidArgument, Acquire("/a", LockMode.Shared, limit: 3));
        Assert.Empty(Engine.Leases);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1_000_001)]
    [InlineData(int.MaxValue)]
    public void Limit_out_of_range_is_an_invalid_argument(int limit)
    {
        Failed(ErrorCode.InvalidArgument, Acquire("/a", limit: limit));
    }

    [Fact]
    public void Limit_of_a_million_is_accepted()
    {
        Assert.Equal(1_000_000, Hold("/a", limit: 1_000_000).Limit);
    }

    [Fact]
    public void Shared_lease_reports_limit_zero_and_is_kept_out_of_a_semaphore()
    {
        Assert.Equal(0, Hold("/s", LockMode.Shared).Limit);
        Failed(ErrorCode.Locked, Acquire("/s", limit: 5));
        Hold("/pool", limit: 5);
        Failed(ErrorCode.Locked, Acquire("/pool", LockMode.Shared));
    }

    [Fact]
    public void Each_semaphore_holder_acts_exclusive_toward_ancestors_and_descendants()
    {
        Hold("/pool", limit: 3);
        Failed(ErrorCode.Locked, Acquire("/pool/slot", limit: 3));
        Failed(ErrorCode.Locked, Acquire("/", limit: 3));
        Failed(ErrorCode.Locked, Acquire("/", LockMode.Shared));
        Hold("/pool", limit: 3, lockParents: false, lockChildren: false);
        Failed(ErrorCode.Locked, Acquire("/pool/slot"));
    }

    [Fact]
    public void Semaphore_holders_with_narrow_flags_only_block_what_their_flags_say()
    {
        Hold("/pool", limit: 2, lockParents: false, lockChildren: false);
        Hold("/pool", limit: 2, lockParents: false, lockChildren: false);
        Assert.True(IsLockable("/"));
        Assert.True(IsLockable("/pool/slot"));
        Assert.False(IsLockable("/pool", LockMode.Shared));
    }

    [Fact]
    public void Exclusive_waiters_on_one_semaphore_path_queue_behind_each_other()
    {
        var a = Hold("/pool", limit: 2);
        var b = Hold("/pool", limit: 2);
        var w1 = Queued(Acquire("/pool", limit: 2, waitMs: 1000));
        var w2 = Queued(Acquire("/pool", limit: 2, waitMs: 1000));
        Release(a);
        GrantedOutcome(w1);
        Assert.Equal([w2.Id], QueueIds());
        Release(b);
        GrantedOutcome(w2);
    }

    [Fact]
    public void A_free_slot_is_not_taken_past_a_queued_waiter_on_the_same_path()
    {
        Hold("/pool", limit: 2);
        var busy = Hold("/busy", LockMode.Shared);
        // The older waiter wants a slot and /busy; it waits only for the shared holder of /busy.
        var waiter = Queued(AcquireMany(["/pool", "/busy"], limit: 2, waitMs: 1000));
        // One slot is free, but the request may not overtake the older waiter on the same path.
        Failed(ErrorCode.Locked, Acquire("/pool", limit: 2));
        var late = Queued(Acquire("/pool", limit: 2, waitMs: 1000));
        Release(busy);
        Assert.Equal(waiter.Id, DrainOutcomes().Single().WaiterId);
        Assert.Equal([late.Id], QueueIds());
    }

    [Fact]
    public void Waiter_whose_limit_disagrees_with_the_holders_when_served_fails_with_LimitMismatch()
    {
        var blocker = Hold("/pool/x");
        var one = Queued(Acquire("/pool", limit: 1, waitMs: 1000));
        var two = Queued(Acquire("/pool", limit: 2, waitMs: 1000));
        Release(blocker);
        var outcomes = DrainOutcomes();
        Assert.Equal(2, outcomes.Count);
        Assert.Equal((one.Id, ErrorCode.None), (outcomes[0].WaiterId, outcomes[0].Error));
        Assert.Equal(1, outcomes[0].Lease!.Limit);
        Assert.Equal((two.Id, ErrorCode.LimitMismatch), (outcomes[1].WaiterId, outcomes[1].Error));
        Assert.Null(outcomes[1].Lease);
        Assert.Equal(0, Engine.QueueLength);
        Assert.Null(Engine.GetWaiter(two.Id));
    }
}

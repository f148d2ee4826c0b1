namespace Leasehold.Core.Tests;

public class QueueTests : EngineTestBase
{
    [Fact]
    public void Queued_waiter_records_the_request()
    {
        Hold("/a");
        var token = NewToken();
        var waiter = Queued(Acquire("/a", LockMode.Shared, lockChildren: false, waitMs: 700, ttlMs: 50, owner: "w", token: token));
        Assert.Equal(1, waiter.Id);
        Assert.Equal(token, waiter.Token);
        Assert.Equal(Now, waiter.EnqueuedAt);
        Assert.Equal(Now + 700, waiter.Deadline);
        Assert.Equal(LockMode.Shared, waiter.Mode);
        Assert.False(waiter.LockChildren);
        Assert.Same(waiter, Engine.GetWaiter(waiter.Id));
        Assert.Equal([waiter.Id], Engine.GetResource(P("/a")).Queue.Select(w => w.Id));
        Assert.Equal(1, Engine.QueueLength);
    }

    [Fact]
    public void Handoff_is_first_in_first_out()
    {
        var holder = Hold("/a");
        var w1 = Queued(Acquire("/a", waitMs: 1000));
        var w2 = Queued(Acquire("/a", waitMs: 1000));
        var w3 = Queued(Acquire("/a", waitMs: 1000));
        Assert.Equal([w1.Id, w2.Id, w3.Id], QueueIds());

        Now += 10;
        Release(holder);
        var l1 = GrantedOutcome(w1);
        Assert.Equal(10, l1.WaitedMs);
        Assert.Equal(Now, l1.AcquiredAt);
        Assert.Equal([w2.Id, w3.Id], QueueIds());

        Release(l1);
        var l2 = GrantedOutcome(w2);
        Release(l2);
        var l3 = GrantedOutcome(w3);
        Assert.True(l1.Fence < l2.Fence && l2.Fence < l3.Fence);
        Assert.Equal(0, Engine.QueueLength);
    }

    [Fact]
    public void Granted_waiter_gets_its_ttl_from_the_grant()
    {
        var holder = Hold("/a");
        var waiter = Queued(Acquire("/a", waitMs: 1000, ttlMs: 300));
        Now += 400;
        Release(holder);
        var lease = GrantedOutcome(waiter);
        Assert.Equal(Now + 300, lease.ExpiresAt);
    }

    [Fact]
    public void New_request_does_not_jump_the_queue_even_when_the_holder_would_allow_it()
    {
        Hold("/a", LockMode.Shared);
        var writer = Queued(Acquire("/a", waitMs: 1000));
        // The holder is shared and so is the new request, but a writer waits: no writer starvation.
        Failed(ErrorCode.Locked, Acquire("/a", LockMode.Shared));
        var reader = Queued(Acquire("/a", LockMode.Shared, waitMs: 1000));
        Assert.Equal([writer.Id, reader.Id], QueueIds());
    }

    [Fact]
    public void Shared_waiters_behind_a_queued_exclusive_are_granted_together_after_it()
    {
        var first = Hold("/a", LockMode.Shared);
        var writer = Queued(Acquire("/a", waitMs: 1000));
        var r1 = Queued(Acquire("/a", LockMode.Shared, waitMs: 1000));
        var r2 = Queued(Acquire("/a", LockMode.Shared, waitMs: 1000));
        Release(first);
        var written = GrantedOutcome(writer);
        Assert.Equal([r1.Id, r2.Id], QueueIds());
        Release(written);
        var outcomes = DrainOutcomes();
        Assert.Equal([r1.Id, r2.Id], outcomes.Select(o => o.WaiterId));
        Assert.All(outcomes, o => Assert.Equal(ErrorCode.None, o.Error));
        Assert.True(outcomes[0].Lease!.Fence < outcomes[1].Lease!.Fence);
    }

    [Fact]
    public void Unrelated_younger_waiter_is_served_while_an_older_one_still_waits()
    {
        Hold("/a");
        var b = Hold("/b");
        var wa = Queued(Acquire("/a", waitMs: 1000));
        var wb = Queued(Acquire("/b", waitMs: 1000));
        Release(b);
        GrantedOutcome(wb);
        Assert.Equal([wa.Id], QueueIds());
    }

    [Fact]
    public void Unrelated_new_request_is_granted_despite_a_queue()
    {
        Hold("/a");
        Queued(Acquire("/a", waitMs: 1000));
        Granted(Acquire("/b"));
        Granted(Acquire("/a2/x"));
    }

    [Fact]
    public void Multi_path_waiter_is_not_overtaken_on_its_free_path()
    {
        var a = Hold("/a");
        var multi = Queued(AcquireMany(["/a", "/b"], waitMs: 1000));
        // /b is free, but the older waiter wants it.
        Failed(ErrorCode.Locked, Acquire("/b"));
        Failed(ErrorCode.Locked, Acquire("/b/c"));
        Failed(ErrorCode.Locked, Acquire("/", LockMode.Shared));
        var later = Queued(Acquire("/b", waitMs: 1000));
        Release(a);
        GrantedOutcome(multi);
        Assert.Equal([later.Id], QueueIds());
    }

    [Fact]
    public void Younger_waiter_is_not_granted_past_an_older_conflicting_waiter_when_served()
    {
        var a = Hold("/a");
        var b = Hold("/b");
        var multi = Queued(AcquireMany(["/a", "/b"], waitMs: 1000));
        var younger = Queued(Acquire("/b", waitMs: 1000));
        Release(b);
        // /b is free now, but the older multi-path waiter still waits for /a and wants /b too.
        Assert.Empty(DrainOutcomes());
        Assert.Equal([multi.Id, younger.Id], QueueIds());
        Release(a);
        GrantedOutcome(multi);
    }

    [Fact]
    public void Queue_conflict_is_symmetric_new_parent_waits_for_a_queued_child_without_lockParents()
    {
        // The holder keeps /a/b but not /a.
        Hold("/a/b", lockParents: false);
        var child = Queued(Acquire("/a/b", lockParents: false, waitMs: 1000));
        // As a holder the queued child would not block /a, but a new /a (lockChildren) would block the child.
        Failed(ErrorCode.Locked, Acquire("/a"));
        Assert.Equal([child.Id], QueueIds());
        // Neither covers the other when the new parent does not lock its children.
        Granted(Acquire("/a", lockChildren: false));
    }

    [Fact]
    public void Queue_conflict_is_symmetric_new_child_waits_for_a_queued_parent_without_lockChildren()
    {
        // The holder keeps /p but not its children.
        Hold("/p", lockChildren: false);
        var parent = Queued(Acquire("/p", lockChildren: false, waitMs: 1000));
        // As a holder the queued parent would not block /p/q, but a new /p/q (lockParents) would block the parent.
        Failed(ErrorCode.Locked, Acquire("/p/q"));
        Assert.Equal([parent.Id], QueueIds());
        Granted(Acquire("/p/q", lockParents: false));
    }

    [Fact]
    public void Queued_parent_keeps_a_new_child_out()
    {
        Hold("/a/b");
        var parent = Queued(Acquire("/a", waitMs: 1000));
        Failed(ErrorCode.Locked, Acquire("/a/c"));
        Failed(ErrorCode.Locked, Acquire("/a/c", lockParents: false));
        Assert.Equal([parent.Id], QueueIds());
    }

    [Fact]
    public void Queued_shared_waiter_does_not_hold_back_shared_requests()
    {
        Hold("/a/b", lockParents: false);
        var reader = Queued(Acquire("/a/b", LockMode.Shared, waitMs: 1000));
        Granted(Acquire("/a", LockMode.Shared));
        Granted(Acquire("/", LockMode.Shared));
        Assert.Equal([reader.Id], QueueIds());
    }

    [Fact]
    public void Queued_shared_waiter_holds_back_an_exclusive_parent()
    {
        Hold("/a/b", lockParents: false);
        Queued(Acquire("/a/b", LockMode.Shared, lockParents: false, waitMs: 1000));
        // The new exclusive /a would cover the shared waiter below it.
        Failed(ErrorCode.Locked, Acquire("/a"));
        Granted(Acquire("/a", lockChildren: false));
    }

    [Fact]
    public void Deadline_fails_the_waiter_with_Locked_on_Advance()
    {
        Hold("/a");
        var waiter = Queued(Acquire("/a", waitMs: 500));
        Assert.Equal(Now + 500, Engine.NextDeadline);
        Assert.Equal(0, Engine.Advance(Now + 499));
        Assert.Empty(DrainOutcomes());
        Assert.Equal(1, Engine.Advance(Now + 500));
        var outcome = Assert.Single(DrainOutcomes());
        Assert.Equal((waiter.Id, ErrorCode.Locked), (outcome.WaiterId, outcome.Error));
        Assert.Null(outcome.Lease);
        Assert.Equal(0, Engine.QueueLength);
        Assert.Null(Engine.GetWaiter(waiter.Id));
        Assert.Empty(Engine.GetResource(P("/a")).Queue);
    }

    [Fact]
    public void Expired_waiter_stops_blocking_younger_ones()
    {
        Hold("/a");
        var multi = Queued(AcquireMany(["/a", "/b"], waitMs: 100));
        var younger = Queued(Acquire("/b", waitMs: 1000));
        Now += 100;
        Assert.Equal(1, Engine.Advance(Now));
        var outcomes = DrainOutcomes();
        Assert.Equal([(multi.Id, ErrorCode.Locked), (younger.Id, ErrorCode.None)], outcomes.Select(o => (o.WaiterId, o.Error)));
    }

    [Fact]
    public void Cancel_leaves_no_trace()
    {
        var holder = Hold("/a");
        var waiter = Queued(AcquireMany(["/a", "/b"], waitMs: 1000));
        Failed(ErrorCode.Locked, Acquire("/b"));
        Assert.True(Cancel(waiter));
        Assert.Empty(DrainOutcomes());
        Assert.Equal(0, Engine.QueueLength);
        Assert.Null(Engine.GetWaiter(waiter.Id));
        Assert.Empty(Engine.GetResource(P("/a")).Queue);
        Assert.Empty(Engine.GetResource(P("/b")).Queue);
        Granted(Acquire("/b"));
        Assert.False(Cancel(waiter));
        Release(holder);
        Assert.Empty(DrainOutcomes());
        // Its deadline passing later reports nothing either.
        Assert.Equal(0, Engine.Advance(Now + 1000));
        Assert.Empty(DrainOutcomes());
    }

    [Fact]
    public void Cancel_serves_waiters_the_cancelled_one_was_holding_back()
    {
        Hold("/a");
        var multi = Queued(AcquireMany(["/a", "/b"], waitMs: 1000));
        var younger = Queued(Acquire("/b", waitMs: 1000));
        Assert.True(Cancel(multi));
        GrantedOutcome(younger);
    }

    [Fact]
    public void Cancel_of_an_unknown_or_granted_waiter_is_false()
    {
        Assert.False(Engine.Cancel(new CancelWait { Now = Now, WaiterId = 77 }));
        var holder = Hold("/a");
        var waiter = Queued(Acquire("/a", waitMs: 1000));
        Release(holder);
        var lease = GrantedOutcome(waiter);
        Assert.False(Cancel(waiter));
        Assert.Same(lease, Engine.GetLease(lease.Id));
    }

    [Fact]
    public void DropWaiters_fails_every_waiter_with_ShuttingDown()
    {
        var holder = Hold("/a");
        var w1 = Queued(Acquire("/a", waitMs: 1000));
        var w2 = Queued(Acquire("/a/b", LockMode.Shared, waitMs: 1000));
        Assert.Equal(2, Engine.DropAllWaiters(0));
        Assert.Equal([(w1.Id, ErrorCode.ShuttingDown), (w2.Id, ErrorCode.ShuttingDown)], DrainOutcomes().Select(o => (o.WaiterId, o.Error)));
        Assert.Equal(0, Engine.QueueLength);
        Assert.Same(holder, Engine.GetLease(holder.Id));
        Release(holder);
        Assert.Empty(DrainOutcomes());
    }
}

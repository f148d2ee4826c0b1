namespace Leasehold.Core.Tests;

public class ExpiryTests : EngineTestBase
{
    [Fact]
    public void Lease_ends_exactly_at_its_expiry()
    {
        var lease = Hold("/a", ttlMs: 1000);
        Assert.Equal(lease.ExpiresAt, Engine.NextDeadline);
        Assert.Equal(0, Engine.Advance(lease.ExpiresAt - 1));
        Assert.Same(lease, Engine.GetLease(lease.Id));
        Assert.Equal(1, Engine.Advance(lease.ExpiresAt));
        Assert.Null(Engine.GetLease(lease.Id));
        Assert.Null(Engine.NextDeadline);
        Assert.Equal(0, Engine.Advance(lease.ExpiresAt + 1));
    }

    [Fact]
    public void Expiry_is_only_applied_by_Advance()
    {
        var lease = Hold("/a", ttlMs: 1000);
        Now += 5000;
        // The engine reads no clock: until Advance the lease is still held, even past its expiry.
        Failed(ErrorCode.Locked, Acquire("/a"));
        Assert.Equal(1, Engine.Advance(Now));
        Assert.Equal(ErrorCode.NotFound, Release(lease).Error);
        Assert.Equal(ErrorCode.NotFound, Renew(lease).Error);
        Granted(Acquire("/a"));
    }

    [Fact]
    public void Expiry_serves_the_queue_with_fencing_tokens_in_queue_order()
    {
        var holder = Hold("/a", ttlMs: 100);
        var w1 = Queued(Acquire("/a", LockMode.Shared, waitMs: 1000));
        var w2 = Queued(Acquire("/a", LockMode.Shared, waitMs: 1000));
        Now += 100;
        Assert.Equal(1, Engine.Advance(Now));
        var outcomes = DrainOutcomes();
        Assert.Equal([w1.Id, w2.Id], outcomes.Select(o => o.WaiterId));
        Assert.Equal([holder.Fence + 1, holder.Fence + 2], outcomes.Select(o => o.Lease!.Fence));
        Assert.All(outcomes, o => Assert.Equal(100, o.Lease!.WaitedMs));
    }

    [Fact]
    public void Renew_postpones_expiry_and_the_old_deadline_is_skipped()
    {
        var lease = Hold("/a", ttlMs: 1000);
        Now += 800;
        Renew(lease);
        Assert.Equal(0, Engine.Advance(Now + 200));
        Assert.Same(lease, Engine.GetLease(lease.Id));
        Assert.Equal(0, Engine.Advance(Now + 999));
        Assert.Equal(1, Engine.Advance(Now + 1000));
        Assert.Empty(Engine.Leases);
    }

    [Fact]
    public void Renew_to_a_shorter_ttl_expires_earlier()
    {
        var lease = Hold("/a", ttlMs: 1000);
        Renew(lease, ttlMs: 10);
        Assert.Equal(1, Engine.Advance(Now + 10));
        Assert.Empty(Engine.Leases);
        Assert.Equal(0, Engine.Advance(Now + 1000));
    }

    [Fact]
    public void One_Advance_ends_everything_due_and_serves_the_queue_once()
    {
        var a = Hold("/a", ttlMs: 100);
        var b = Hold("/b", ttlMs: 200);
        Hold("/c", ttlMs: 300);
        var waiter = Queued(AcquireMany(["/a", "/b"], waitMs: 1000));
        Assert.Equal(2, Engine.Advance(Now + 250));
        Assert.Null(Engine.GetLease(a.Id));
        Assert.Null(Engine.GetLease(b.Id));
        var lease = GrantedOutcome(waiter);
        Assert.Equal(2, Engine.Leases.Count);
        Assert.Equal(Now + 250, lease.AcquiredAt);
    }

    [Fact]
    public void Waiter_whose_deadline_passed_in_the_same_Advance_as_its_holders_expiry_is_granted()
    {
        // One late Advance covers the holder's expiry (100) and the waiter's deadline (200): expiries are
        // served before deadlines fail anyone, so the waiter is granted, at the time of the Advance.
        var start = Now;
        Hold("/a", ttlMs: 100);
        var waiter = Queued(Acquire("/a", waitMs: 200, ttlMs: 50));
        Assert.Equal(1, Engine.Advance(start + 300));
        var lease = GrantedOutcome(waiter);
        Assert.Equal(start + 300, lease.AcquiredAt);
        Assert.Equal(300, lease.WaitedMs);
        Assert.Equal(start + 350, lease.ExpiresAt);
        Assert.Equal(0, Engine.QueueLength);
        Assert.Equal(0, Engine.Advance(start + 349));
        Assert.Equal(1, Engine.Advance(start + 350));
    }

    [Fact]
    public void Waiter_is_granted_by_a_late_Advance_even_if_its_deadline_came_before_the_holders_expiry()
    {
        // Deadline 200, holder's expiry 300, one Advance at 300: within an Advance every expiry is served
        // before any wait fails, whatever their times. (An Advance at 200 would have failed it.)
        Hold("/a", ttlMs: 300);
        var waiter = Queued(Acquire("/a", waitMs: 200));
        Assert.Equal(1, Engine.Advance(Now + 300));
        Assert.Equal(Now + 300, GrantedOutcome(waiter).AcquiredAt);
    }

    [Fact]
    public void Waiter_whose_deadline_is_the_millisecond_its_holder_expires_is_granted()
    {
        Hold("/a", ttlMs: 100);
        var waiter = Queued(Acquire("/a", waitMs: 100));
        Assert.Equal(0, Engine.Advance(Now + 99));
        Assert.Equal(1, Engine.Advance(Now + 100));
        Assert.Equal(Now + 100, GrantedOutcome(waiter).AcquiredAt);
    }

    [Fact]
    public void Waiter_still_blocked_after_the_expiries_fails_and_the_queue_is_served_again()
    {
        // /b expires but the multi-path waiter still needs /a: it fails with Locked after the first
        // serve, and the second serve grants the younger /b waiter it was holding back.
        Hold("/a");
        Hold("/b", ttlMs: 100);
        var multi = Queued(AcquireMany(["/a", "/b"], waitMs: 100));
        var younger = Queued(Acquire("/b", waitMs: 1000));
        Assert.Equal(2, Engine.Advance(Now + 100));
        var outcomes = DrainOutcomes();
        Assert.Equal([(multi.Id, ErrorCode.Locked), (younger.Id, ErrorCode.None)], outcomes.Select(o => (o.WaiterId, o.Error)));
        Assert.Equal(younger.Token, outcomes[1].Lease!.Token);
    }

    [Fact]
    public void Waiters_whose_wait_ran_out_fail_in_order_of_deadline_then_id()
    {
        Hold("/a");
        var late = Queued(Acquire("/a", LockMode.Shared, waitMs: 300));
        var early = Queued(Acquire("/a", LockMode.Shared, waitMs: 200));
        var sameAsEarly = Queued(Acquire("/a", LockMode.Shared, waitMs: 200));
        Assert.Equal(3, Engine.Advance(Now + 1000));
        Assert.Equal(
            [(early.Id, ErrorCode.Locked), (sameAsEarly.Id, ErrorCode.Locked), (late.Id, ErrorCode.Locked)],
            DrainOutcomes().Select(o => (o.WaiterId, o.Error)));
    }

    [Fact]
    public void Session_expiry_is_postponed_by_KeepAlive_only()
    {
        var session = OpenSession(1000);
        var lease = Hold("/a", sessionId: session.Id, ttlMs: 5000);
        Now += 999;
        Renew(lease);
        Assert.Equal(0, Engine.Advance(Now));
        Now += 1;
        Assert.Equal(1, Engine.Advance(Now));
        Assert.Null(Engine.GetLease(lease.Id));
    }

    [Fact]
    public void Expiry_is_processed_at_current_deadlines_not_stale_ones()
    {
        // The session is kept alive past the waiter's deadline: its first deadline (1000) is stale.
        var start = Now;
        var session = OpenSession(1000);
        Hold("/a");
        var waiter = Queued(Acquire("/a", waitMs: 1500, sessionId: session.Id));
        Now = start + 900;
        Engine.KeepAlive(new KeepAliveSession { Now = Now, SessionId = session.Id, Token = session.Token });
        Assert.Equal(start + 1900, session.ExpiresAt);
        Assert.Equal(0, Engine.Advance(start + 1000));
        Assert.Same(session, Engine.GetSession(session.Id));
        Assert.Equal(1, Engine.Advance(start + 1500));
        var outcome = Assert.Single(DrainOutcomes());
        Assert.Equal((waiter.Id, ErrorCode.Locked), (outcome.WaiterId, outcome.Error));
        Assert.Same(session, Engine.GetSession(session.Id));
        Assert.Equal(1, Engine.Advance(start + 1900));
        Assert.Null(Engine.GetSession(session.Id));
        Assert.Empty(DrainOutcomes());
    }

    [Fact]
    public void Waiter_whose_wait_ran_out_before_its_session_ended_in_the_same_Advance_fails_with_SessionEnded()
    {
        // One late Advance covers the waiter's deadline (1500) and its session's end (1900): deadlines
        // only note a waiter, the session's end fails it at once, so only the session counts.
        var start = Now;
        var session = OpenSession(1000);
        Hold("/a");
        var waiter = Queued(Acquire("/a", waitMs: 1500, sessionId: session.Id));
        Now = start + 900;
        Engine.KeepAlive(new KeepAliveSession { Now = Now, SessionId = session.Id, Token = session.Token });
        Assert.Equal(1, Engine.Advance(start + 2000));
        var outcome = Assert.Single(DrainOutcomes());
        Assert.Equal((waiter.Id, ErrorCode.SessionEnded), (outcome.WaiterId, outcome.Error));
        Assert.Null(Engine.GetSession(session.Id));
        Assert.Equal(0, Engine.QueueLength);
    }

    [Fact]
    public void Waiter_of_a_session_ending_when_its_holder_expires_is_not_granted()
    {
        // Holder, session and wait all end at 1000: the session's end fails its waiter before the
        // queue is served, so the freed /a is not granted to it.
        var session = OpenSession(1000);
        Hold("/a", ttlMs: 1000);
        var waiter = Queued(Acquire("/a", waitMs: 1000, sessionId: session.Id));
        Assert.Equal(2, Engine.Advance(Now + 1000));
        var outcome = Assert.Single(DrainOutcomes());
        Assert.Equal((waiter.Id, ErrorCode.SessionEnded), (outcome.WaiterId, outcome.Error));
        Assert.Empty(Engine.Leases);
        Assert.Equal(0, Engine.QueueLength);
    }

    [Fact]
    public void Lease_due_in_the_same_millisecond_as_its_session_ends_first_and_counts()
    {
        // At one millisecond leases end before sessions, so both count.
        var session = OpenSession(1000);
        var lease = Hold("/a", sessionId: session.Id, ttlMs: 1000);
        Hold("/b", sessionId: session.Id);
        Assert.Equal(session.ExpiresAt, lease.ExpiresAt);
        Assert.Equal(2, Engine.Advance(Now + 1000));
        Assert.Empty(Engine.Leases);
        Assert.Null(Engine.GetSession(session.Id));
    }

    [Fact]
    public void Ties_end_in_the_same_order_after_a_snapshot_restore()
    {
        // A restored engine rebuilds its deadline queue in another order (sessions before leases);
        // a tie still ends the lease first. (Capture shares its objects, so only the copy is advanced.)
        var session = OpenSession(1000);
        Hold("/a", sessionId: session.Id, ttlMs: 1000);
        var restored = LockEngine.Restore(Engine.Capture());
        Assert.Equal(2, restored.Advance(Now + 1000));
        Assert.Empty(restored.Leases);
        Assert.Empty(restored.Sessions);
    }

    [Fact]
    public void Lease_renewed_past_its_sessions_end_ends_with_the_session()
    {
        var start = Now;
        var session = OpenSession(1000);
        var lease = Hold("/a", sessionId: session.Id, ttlMs: 100);
        Now = start + 950;
        Renew(lease);
        // The session ends first (at 1000) and takes the lease with it: one thing ended, not two.
        Assert.Equal(1, Engine.Advance(start + 2000));
        Assert.Null(Engine.GetLease(lease.Id));
        Assert.Null(Engine.GetSession(session.Id));
    }

    [Fact]
    public void NextDeadline_is_never_later_than_the_earliest_live_deadline()
    {
        Assert.Null(Engine.NextDeadline);
        var session = OpenSession(5000);
        Hold("/a", ttlMs: 3000);
        Queued(Acquire("/a", waitMs: 2000));
        Assert.Equal(Now + 2000, Engine.NextDeadline);
        Assert.Equal(1, Engine.Advance(Now + 2000));
        Assert.Equal(Now + 3000, Engine.NextDeadline);
        Assert.Equal(1, Engine.Advance(Now + 3000));
        Assert.Equal(session.ExpiresAt, Engine.NextDeadline);
    }

    [Fact]
    public void Ended_and_renewed_things_leave_no_deadline_behind()
    {
        // Released long before their ttl: nothing of them stays timed (before, each left its deadline until it came,
        // so a server releasing 40,000 leases a second with a 60 s ttl carried 2.4 M dead entries and woke for each).
        var leases = Enumerable.Range(0, 100).Select(i => Hold($"/r/{i}", ttlMs: 60_000)).ToList();
        Assert.Equal(100, Engine.DeadlineCount);
        foreach (var lease in leases)
        {
            Assert.Equal(ErrorCode.None, Release(lease).Error);
        }
        Assert.Equal(0, Engine.DeadlineCount);
        Assert.Null(Engine.NextDeadline);

        // A renewed lease keeps one deadline, moved: the next deadline is its latest expiry, not its first.
        var renewed = Hold("/renewed", ttlMs: 1000);
        for (var i = 0; i < 10; i++)
        {
            Now += 500;
            Assert.Equal(ErrorCode.None, Renew(renewed).Error);
        }
        Assert.Equal(1, Engine.DeadlineCount);
        Assert.Equal(renewed.ExpiresAt, Engine.NextDeadline);

        // A closed session and a waiter that was granted or gave up leave nothing either.
        var session = OpenSession(5000);
        var bound = Hold("/bound", sessionId: session.Id, ttlMs: 3000);
        var waiter = Queued(Acquire("/renewed", waitMs: 2000));
        Assert.Equal(4, Engine.DeadlineCount);
        Assert.Equal(ErrorCode.None, CloseSession(session).Error);
        Assert.Null(Engine.GetLease(bound.Id));
        Assert.Equal(2, Engine.DeadlineCount);
        Assert.Equal(ErrorCode.None, Release(renewed).Error);
        Assert.Equal(waiter.Id, Assert.Single(DrainOutcomes()).WaiterId);
        // The waiter, granted, holds a lease without a ttl: nothing is timed any more.
        Assert.Equal(0, Engine.DeadlineCount);
        Assert.Null(Engine.NextDeadline);
    }
}

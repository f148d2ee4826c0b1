namespace Leasehold.Core.Tests;

public class SessionTests : EngineTestBase
{
    [Fact]
    public void Open_gives_increasing_ids_and_an_expiry()
    {
        var a = OpenSession(5000);
        var b = OpenSession(1000);
        Assert.True(b.Id > a.Id);
        Assert.Equal(Now + 5000, a.ExpiresAt);
        Assert.Equal(5000, a.TtlMs);
        Assert.Same(a, Engine.GetSession(a.Id));
        Assert.Equal(2, Engine.Sessions.Count);
        Assert.Equal(0, a.LeaseCount);
    }

    [Theory]
    [InlineData(999L)]
    [InlineData(0L)]
    [InlineData(-1000L)]
    [InlineData((24L * 3600 * 1000) + 1)]
    public void Ttl_outside_one_second_to_a_day_is_an_invalid_argument(long ttlMs)
    {
        var result = Engine.Open(new OpenSession { Now = Now, TtlMs = ttlMs });
        Assert.Equal(ErrorCode.InvalidArgument, result.Error);
        Assert.Null(result.Value);
        Assert.Empty(Engine.Sessions);
    }

    [Fact]
    public void Ttl_bounds_are_inclusive_and_owner_is_limited()
    {
        Assert.Equal(ErrorCode.None, Engine.Open(new OpenSession { Now = Now, TtlMs = 1000 }).Error);
        Assert.Equal(ErrorCode.None, Engine.Open(new OpenSession { Now = Now, TtlMs = 24L * 3600 * 1000, Owner = new string('o', 256) }).Error);
        Assert.Equal(ErrorCode.InvalidArgument, Engine.Open(new OpenSession { Now = Now, TtlMs = 1000, Owner = new string('o', 257) }).Error);
        Assert.Equal(2, Engine.Sessions.Count);
    }

    [Fact]
    public void KeepAlive_extends_from_now()
    {
        var session = OpenSession(2000);
        Now += 1500;
        var result = Engine.KeepAlive(new KeepAliveSession { Now = Now, SessionId = session.Id, Token = session.Token });
        Assert.Equal(ErrorCode.None, result.Error);
        Assert.Equal(Now + 2000, session.ExpiresAt);
        Now += 1999;
        Assert.Equal(0, Engine.Advance(Now));
        Assert.NotNull(Engine.GetSession(session.Id));
        Now += 1;
        Assert.Equal(1, Engine.Advance(Now));
        Assert.Null(Engine.GetSession(session.Id));
    }

    [Fact]
    public void KeepAlive_and_Close_check_id_and_token()
    {
        var session = OpenSession(2000);
        var lease = Hold("/a", sessionId: session.Id);
        var expires = session.ExpiresAt;
        Now += 100;
        Assert.Equal(ErrorCode.InvalidToken, Engine.KeepAlive(new KeepAliveSession { Now = Now, SessionId = session.Id, Token = session.Token + 1 }).Error);
        Assert.Equal(ErrorCode.NotFound, Engine.KeepAlive(new KeepAliveSession { Now = Now, SessionId = session.Id + 1, Token = session.Token }).Error);
        Assert.Equal(expires, session.ExpiresAt);
        Assert.Equal(ErrorCode.InvalidToken, Engine.Close(new CloseSession { Now = Now, SessionId = session.Id, Token = session.Token + 1 }).Error);
        Assert.Equal(ErrorCode.NotFound, Engine.Close(new CloseSession { Now = Now, SessionId = session.Id + 1, Token = session.Token }).Error);
        Assert.Same(session, Engine.GetSession(session.Id));
        Assert.Same(lease, Engine.GetLease(lease.Id));
    }

    [Fact]
    public void Close_releases_every_lease_of_the_session_and_nothing_else()
    {
        var session = OpenSession();
        var other = OpenSession();
        var a = Hold("/a", sessionId: session.Id);
        var b = Granted(AcquireMany(["/b", "/c"], sessionId: session.Id));
        var mine = Hold("/d", sessionId: other.Id);
        var free = Hold("/e");
        Assert.Equal(2, session.LeaseCount);
        Assert.Equal(ErrorCode.None, CloseSession(session).Error);
        Assert.Null(Engine.GetLease(a.Id));
        Assert.Null(Engine.GetLease(b.Id));
        Assert.Equal([mine.Id, free.Id], HeldIds());
        Assert.Null(Engine.GetSession(session.Id));
        Assert.Equal(ErrorCode.NotFound, CloseSession(session).Error);
        Assert.Equal(ErrorCode.NotFound, Release(a).Error);
    }

    [Fact]
    public void Close_releases_all_leases_at_once_so_a_waiter_needing_all_of_them_is_granted()
    {
        var session = OpenSession();
        Hold("/a", sessionId: session.Id);
        Hold("/b", sessionId: session.Id);
        var waiter = Queued(AcquireMany(["/a", "/b"], waitMs: 1000));
        CloseSession(session);
        var lease = GrantedOutcome(waiter);
        Assert.Equal(Ps("/a", "/b"), lease.Paths);
    }

    [Fact]
    public void Close_fails_the_sessions_waiters_with_SessionEnded_before_serving_the_queue()
    {
        var session = OpenSession();
        var holder = Hold("/x", sessionId: session.Id);
        var blocker = Hold("/y");
        var own = Queued(Acquire("/y", waitMs: 1000, sessionId: session.Id));
        var theirs = Queued(Acquire("/x", waitMs: 1000));
        CloseSession(session);
        var outcomes = DrainOutcomes().OrderBy(o => o.WaiterId).ToList();
        Assert.Equal(2, outcomes.Count);
        Assert.Equal((own.Id, ErrorCode.SessionEnded), (outcomes[0].WaiterId, outcomes[0].Error));
        Assert.Null(outcomes[0].Lease);
        Assert.Equal((theirs.Id, ErrorCode.None), (outcomes[1].WaiterId, outcomes[1].Error));
        Assert.Equal(0, Engine.QueueLength);
        Assert.Null(Engine.GetLease(holder.Id));
        Assert.Same(blocker, Engine.GetLease(blocker.Id));
    }

    [Fact]
    public void Waiter_granted_later_is_bound_to_its_session()
    {
        var session = OpenSession();
        var blocker = Hold("/a");
        var waiter = Queued(Acquire("/a", waitMs: 1000, sessionId: session.Id));
        Release(blocker);
        var lease = GrantedOutcome(waiter);
        Assert.Equal(session.Id, lease.SessionId);
        Assert.Equal(1, session.LeaseCount);
        CloseSession(session);
        Assert.Null(Engine.GetLease(lease.Id));
    }

    [Fact]
    public void Releasing_a_session_lease_unbinds_it()
    {
        var session = OpenSession();
        var lease = Hold("/a", sessionId: session.Id);
        Release(lease);
        Assert.Equal(0, session.LeaseCount);
        Assert.Equal(ErrorCode.None, CloseSession(session).Error);
    }

    [Fact]
    public void Acquire_with_an_unknown_or_closed_session_is_NotFound()
    {
        Failed(ErrorCode.NotFound, Acquire("/a", sessionId: 42));
        var session = OpenSession();
        CloseSession(session);
        Failed(ErrorCode.NotFound, Acquire("/a", sessionId: session.Id));
        Failed(ErrorCode.NotFound, Acquire("/a", sessionId: session.Id, waitMs: 100));
        Assert.Empty(Engine.Leases);
        Assert.Equal(0, Engine.QueueLength);
    }

    [Fact]
    public void Invalid_arguments_are_reported_before_an_unknown_session()
    {
        Failed(ErrorCode.InvalidArgument, Acquire("/a", sessionId: 42, ttlMs: -1));
    }

    [Fact]
    public void Expiry_ends_the_session_its_leases_and_its_waiters_at_once()
    {
        var session = OpenSession(1000);
        var a = Hold("/a", sessionId: session.Id);
        var b = Hold("/b", sessionId: session.Id);
        var other = Hold("/c");
        var own = Queued(Acquire("/c", waitMs: 5000, sessionId: session.Id));
        var waiter = Queued(AcquireMany(["/a", "/b"], waitMs: 5000));
        Now += 999;
        Assert.Equal(0, Engine.Advance(Now));
        Now += 1;
        Assert.Equal(1, Engine.Advance(Now));
        Assert.Null(Engine.GetLease(a.Id));
        Assert.Null(Engine.GetLease(b.Id));
        Assert.Same(other, Engine.GetLease(other.Id));
        var outcomes = DrainOutcomes().OrderBy(o => o.WaiterId).ToList();
        Assert.Equal([(own.Id, ErrorCode.SessionEnded), (waiter.Id, ErrorCode.None)], outcomes.Select(o => (o.WaiterId, o.Error)));
        Assert.Equal(Now, outcomes[1].Lease!.AcquiredAt);
        Assert.Equal(ErrorCode.NotFound, Engine.KeepAlive(new KeepAliveSession { Now = Now, SessionId = session.Id, Token = session.Token }).Error);
    }
}

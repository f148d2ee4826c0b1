namespace Leasehold.Core.Tests;

/// <summary>Lease identity, fencing tokens, renew and release.</summary>
public class LeaseTests : EngineTestBase
{
    [Fact]
    public void Grant_records_the_request()
    {
        var token = NewToken();
        var session = OpenSession();
        var lease = Granted(Acquire("/a/b", LockMode.Shared, lockParents: false, ttlMs: 500, sessionId: session.Id, owner: "me", token: token));
        Assert.Equal(1, lease.Id);
        Assert.Equal(token, lease.Token);
        Assert.Equal(Ps("/a/b"), lease.Paths);
        Assert.Equal(LockMode.Shared, lease.Mode);
        Assert.False(lease.LockParents);
        Assert.True(lease.LockChildren);
        Assert.Equal("me", lease.Owner);
        Assert.Equal(session.Id, lease.SessionId);
        Assert.Equal(500, lease.TtlMs);
        Assert.Equal(Now, lease.AcquiredAt);
        Assert.Equal(0, lease.WaitedMs);
        Assert.Equal(Now + 500, lease.ExpiresAt);
        Assert.Equal(1, session.LeaseCount);
        Assert.Same(lease, Engine.GetLease(lease.Id));
    }

    [Fact]
    public void Lease_without_ttl_never_expires()
    {
        var lease = Hold("/a");
        Assert.Equal(long.MaxValue, lease.ExpiresAt);
        Assert.Null(Engine.NextDeadline);
        Assert.Equal(0, Engine.Advance(long.MaxValue - 1));
        Assert.Same(lease, Engine.GetLease(lease.Id));
    }

    [Fact]
    public void Fencing_tokens_strictly_increase_across_grants_of_every_kind()
    {
        Assert.Equal(0, Engine.LastFence);
        var fences = new List<long>();
        var a = Hold("/a");
        fences.Add(a.Fence);
        fences.Add(Hold("/b", LockMode.Shared).Fence);
        var waiter = Queued(Acquire("/a", waitMs: 1000));
        fences.Add(Hold("/c", limit: 2).Fence);
        Release(a);
        fences.Add(GrantedOutcome(waiter).Fence);
        Now += 10;
        fences.Add(Hold("/d", ttlMs: 5).Fence);
        var expiring = Queued(Acquire("/d", LockMode.Shared, waitMs: 1000));
        Engine.Advance(Now + 5);
        fences.Add(GrantedOutcome(expiring).Fence);
        fences.Add(Hold("/e").Fence);
        Assert.Equal(fences.Order(), fences);
        Assert.Equal(fences.Count, fences.Distinct().Count());
        Assert.All(fences, f => Assert.True(f > 0));
        Assert.Equal(fences[^1], Engine.LastFence);
    }

    [Fact]
    public void Fencing_tokens_are_not_reused_after_release()
    {
        var first = Hold("/a");
        Release(first);
        var second = Hold("/a");
        Assert.True(second.Fence > first.Fence);
        Assert.True(second.Id > first.Id);
        Assert.False(Engine.CheckFence(P("/a"), first.Fence).Current);
        Assert.True(Engine.CheckFence(P("/a"), second.Fence).Current);
    }

    [Fact]
    public void Failed_requests_consume_no_fencing_token_or_id()
    {
        var a = Hold("/a");
        Failed(ErrorCode.Locked, Acquire("/a"));
        Failed(ErrorCode.InvalidArgument, AcquireMany(["/x", "/x"]));
        var b = Hold("/b");
        Assert.Equal(a.Fence + 1, b.Fence);
        Assert.Equal(a.Id + 1, b.Id);
    }

    [Fact]
    public void Release_frees_the_path()
    {
        var lease = Hold("/a");
        var result = Release(lease);
        Assert.Equal(ErrorCode.None, result.Error);
        Assert.Same(lease, result.Value);
        Assert.Null(Engine.GetLease(lease.Id));
        Assert.Empty(Engine.Leases);
        Granted(Acquire("/a"));
    }

    [Fact]
    public void Release_of_an_unknown_lease_is_NotFound()
    {
        Hold("/a");
        var result = Release(999, 1);
        Assert.Equal(ErrorCode.NotFound, result.Error);
        Assert.Null(result.Value);
        Assert.Single(Engine.Leases);
    }

    [Fact]
    public void Release_twice_is_NotFound_the_second_time()
    {
        var lease = Hold("/a");
        Assert.Equal(ErrorCode.None, Release(lease).Error);
        var again = Hold("/b");
        Assert.Equal(ErrorCode.NotFound, Release(lease).Error);
        Assert.Same(again, Engine.GetLease(again.Id));
    }

    [Fact]
    public void Release_with_a_wrong_token_changes_nothing()
    {
        var lease = Hold("/a");
        var waiter = Queued(Acquire("/a", waitMs: 1000));
        var result = Release(lease.Id, lease.Token ^ 1);
        Assert.Equal(ErrorCode.InvalidToken, result.Error);
        Assert.Null(result.Value);
        Assert.Same(lease, Engine.GetLease(lease.Id));
        Assert.Equal([waiter.Id], QueueIds());
        Assert.Empty(DrainOutcomes());
        Failed(ErrorCode.Locked, Acquire("/a/b"));
    }

    [Fact]
    public void Renew_extends_from_now_with_the_lease_ttl()
    {
        var lease = Hold("/a", ttlMs: 1000);
        Now += 600;
        var result = Renew(lease);
        Assert.Equal(ErrorCode.None, result.Error);
        Assert.Same(lease, result.Value);
        Assert.Equal(Now + 1000, lease.ExpiresAt);
        Assert.Equal(1000, lease.TtlMs);
    }

    [Fact]
    public void Renew_with_a_ttl_replaces_the_lease_ttl()
    {
        var lease = Hold("/a", ttlMs: 1000);
        Now += 100;
        Renew(lease, ttlMs: 50);
        Assert.Equal(50, lease.TtlMs);
        Assert.Equal(Now + 50, lease.ExpiresAt);
        Now += 10;
        Renew(lease);
        Assert.Equal(Now + 50, lease.ExpiresAt);
    }

    [Fact]
    public void Renew_gives_a_lease_without_ttl_one_only_when_asked()
    {
        var lease = Hold("/a");
        Renew(lease);
        Assert.Equal(long.MaxValue, lease.ExpiresAt);
        Renew(lease, ttlMs: 300);
        Assert.Equal(Now + 300, lease.ExpiresAt);
        Assert.Equal(1, Engine.Advance(Now + 300));
        Assert.Empty(Engine.Leases);
    }

    [Fact]
    public void Renew_errors_change_nothing()
    {
        var lease = Hold("/a", ttlMs: 1000);
        var expires = lease.ExpiresAt;
        Now += 500;
        Assert.Equal(ErrorCode.InvalidToken, Engine.Renew(new RenewLease { Now = Now, LeaseId = lease.Id, Token = lease.Token + 1, TtlMs = 5000 }).Error);
        Assert.Equal(ErrorCode.NotFound, Engine.Renew(new RenewLease { Now = Now, LeaseId = lease.Id + 7, Token = lease.Token }).Error);
        Assert.Equal(ErrorCode.InvalidArgument, Renew(lease, ttlMs: -1).Error);
        Assert.Equal(ErrorCode.InvalidArgument, Renew(lease, ttlMs: (366L * 24 * 3600 * 1000) + 1).Error);
        Assert.Equal(expires, lease.ExpiresAt);
        Assert.Equal(1000, lease.TtlMs);
        Release(lease);
        Assert.Equal(ErrorCode.NotFound, Renew(lease).Error);
    }

    [Theory]
    [InlineData(-1L, 0L)]
    [InlineData((366L * 24 * 3600 * 1000) + 1, 0L)]
    [InlineData(0L, -1L)]
    [InlineData(0L, (24L * 3600 * 1000) + 1)]
    public void Ttl_and_wait_out_of_range_are_invalid_arguments(long ttlMs, long waitMs)
    {
        Hold("/busy");
        Failed(ErrorCode.InvalidArgument, Acquire("/a", ttlMs: ttlMs, waitMs: waitMs));
        Failed(ErrorCode.InvalidArgument, Acquire("/busy", ttlMs: ttlMs, waitMs: waitMs));
        Assert.Equal(0, Engine.QueueLength);
        Assert.Single(Engine.Leases);
    }

    [Fact]
    public void Largest_ttl_and_wait_are_accepted()
    {
        Hold("/busy");
        Granted(Acquire("/a", ttlMs: 366L * 24 * 3600 * 1000));
        var waiter = Queued(Acquire("/busy", waitMs: 24L * 3600 * 1000));
        Assert.Equal(Now + (24L * 3600 * 1000), waiter.Deadline);
    }

    [Fact]
    public void Owner_longer_than_256_characters_is_an_invalid_argument()
    {
        Granted(Acquire("/a", owner: new string('o', 256)));
        Failed(ErrorCode.InvalidArgument, Acquire("/b", owner: new string('o', 257)));
    }

    [Fact]
    public void Apply_dispatches_every_command()
    {
        var open = Assert.IsType<OperationResult<Session>>(Engine.Apply(new OpenSession { Now = Now, TtlMs = 5000, Token = 9 }));
        var session = open.Value!;
        var acquired = Assert.IsType<AcquireResult>(Engine.Apply(new AcquireLease { Now = Now, Paths = Ps("/a"), Token = 1, TtlMs = 100 }));
        var lease = Granted(acquired);
        var queued = Queued(Assert.IsType<AcquireResult>(Engine.Apply(new AcquireLease { Now = Now, Paths = Ps("/a"), WaitMs = 50, Token = 2 })));
        Assert.Equal(ErrorCode.None, Assert.IsType<OperationResult<Lease>>(Engine.Apply(new RenewLease { Now = Now, LeaseId = lease.Id, Token = 1 })).Error);
        Assert.True(Assert.IsType<bool>(Engine.Apply(new CancelWait { Now = Now, WaiterId = queued.Id })));
        Assert.Equal(ErrorCode.None, Assert.IsType<OperationResult<Session>>(Engine.Apply(new KeepAliveSession { Now = Now, SessionId = session.Id, Token = 9 })).Error);
        Assert.Equal(ErrorCode.None, Assert.IsType<OperationResult<Lease>>(Engine.Apply(new ReleaseLease { Now = Now, LeaseId = lease.Id, Token = 1 })).Error);
        Granted(Assert.IsType<AcquireResult>(Engine.Apply(new AcquireLease { Now = Now, Paths = Ps("/b"), Token = 3, SessionId = session.Id })));
        Queued(Assert.IsType<AcquireResult>(Engine.Apply(new AcquireLease { Now = Now, Paths = Ps("/b"), WaitMs = 50, Token = 4 })));
        Assert.Equal(1, Assert.IsType<int>(Engine.Apply(new DropWaiters { Now = Now })));
        Assert.Equal(ErrorCode.ShuttingDown, Assert.Single(DrainOutcomes()).Error);
        Assert.Equal(ErrorCode.None, Assert.IsType<OperationResult<Session>>(Engine.Apply(new CloseSession { Now = Now, SessionId = session.Id, Token = 9 })).Error);
        Assert.Empty(Engine.Leases);
        Assert.Throws<ArgumentException>(() => Engine.Apply(new UnknownCommand()));
        Assert.Equal(0, Assert.IsType<int>(Engine.Apply(new Tick { Now = Now + 1000 })));
    }

    [Fact]
    public void Leases_are_found_by_token_hash_while_they_live_and_shared_tokens_keep_every_lease()
    {
        var unique = Granted(Acquire("/u", token: 7));
        var shared = new[] { Granted(Acquire("/s1", token: 42)), Granted(Acquire("/s2", token: 42)), Granted(Acquire("/s3", token: 42, ttlMs: 10)) };
        Assert.Same(unique, Engine.FindLeaseByToken(7));
        Assert.Equal([shared[2].Id, shared[1].Id, shared[0].Id], Engine.LeasesWithToken(42).Select(l => l.Id));
        Assert.Equal(2, Engine.DistinctLeaseTokens);

        // The middle of a chain, its head (by expiry), then the last one: each leaves the others indexed.
        Assert.Equal(ErrorCode.None, Release(shared[1]).Error);
        Assert.Equal([shared[2].Id, shared[0].Id], Engine.LeasesWithToken(42).Select(l => l.Id));
        Now += 10;
        Engine.Advance(Now);
        Assert.Same(shared[0], Engine.FindLeaseByToken(42));
        Assert.Equal(ErrorCode.None, Release(shared[0]).Error);
        Assert.Null(Engine.FindLeaseByToken(42));
        Assert.Null(EngineInvariants.TokenIndexMatchesLeases(Engine));

        // A restored engine has the same index.
        Granted(Acquire("/s4", token: 42));
        Granted(Acquire("/s5", token: 42));
        var restored = LockEngine.Restore(Engine.Capture());
        Assert.Null(EngineInvariants.TokenIndexMatchesLeases(restored));
        Assert.Equal(Engine.LeasesWithToken(42).Select(l => l.Id), restored.LeasesWithToken(42).Select(l => l.Id));
        Assert.Same(unique, restored.FindLeaseByToken(7));
    }

    private sealed record UnknownCommand : Command;
}

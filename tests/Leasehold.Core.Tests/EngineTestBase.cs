namespace Leasehold.Core.Tests;

/// <summary>
/// Shared helpers for the example tests: one engine, a fake clock (<see cref="Now"/>, passed in every
/// command) and short ways to acquire, release and inspect.
/// </summary>
public abstract class EngineTestBase
{
    private ulong _nextToken = 1000;

    protected LockEngine Engine { get; } = new();

    /// <summary>The fake clock in Unix milliseconds; tests move it by hand.</summary>
    protected long Now { get; set; } = 1_700_000_000_000;

    protected static ResourcePath P(string text)
    {
        Assert.True(ResourcePath.TryParse(text, out var path, out var error), $"{text}: {error}");
        return path;
    }

    protected static ResourcePath[] Ps(params string[] texts) => [.. texts.Select(P)];

    protected UInt128 NewToken() => ++_nextToken;

    protected AcquireResult Acquire(
        string path,
        LockMode mode = LockMode.Exclusive,
        int? limit = null,
        bool lockParents = true,
        bool lockChildren = true,
        long waitMs = 0,
        long ttlMs = 0,
        long sessionId = 0,
        string? owner = null,
        UInt128? token = null)
        => AcquireMany([path], mode, limit, lockParents, lockChildren, waitMs, ttlMs, sessionId, owner, token);

    protected AcquireResult AcquireMany(
        string[] paths,
        LockMode mode = LockMode.Exclusive,
        int? limit = null,
        bool lockParents = true,
        bool lockChildren = true,
        long waitMs = 0,
        long ttlMs = 0,
        long sessionId = 0,
        string? owner = null,
        UInt128? token = null)
        => Engine.Acquire(new AcquireLease
        {
            Now = Now,
            Paths = Ps(paths),
            Mode = mode,
            Limit = limit,
            LockParents = lockParents,
            LockChildren = lockChildren,
            WaitMs = waitMs,
            TtlMs = ttlMs,
            SessionId = sessionId,
            Owner = owner,
            Token = token ?? NewToken(),
        });

    protected static Lease Granted(AcquireResult result)
    {
        Assert.Equal(ErrorCode.None, result.Error);
        Assert.Null(result.Waiter);
        Assert.NotNull(result.Lease);
        return result.Lease;
    }

    protected static Waiter Queued(AcquireResult result)
    {
        Assert.Equal(ErrorCode.None, result.Error);
        Assert.Null(result.Lease);
        Assert.NotNull(result.Waiter);
        return result.Waiter;
    }

    protected static void Failed(ErrorCode expected, AcquireResult result)
    {
        Assert.Equal(expected, result.Error);
        Assert.Null(result.Lease);
        Assert.Null(result.Waiter);
        Assert.False(string.IsNullOrEmpty(result.Detail));
    }

    protected Lease Hold(
        string path,
        LockMode mode = LockMode.Exclusive,
        int? limit = null,
        bool lockParents = true,
        bool lockChildren = true,
        long ttlMs = 0,
        long sessionId = 0)
        => Granted(Acquire(path, mode, limit, lockParents, lockChildren, ttlMs: ttlMs, sessionId: sessionId));

    protected OperationResult<Lease> Release(Lease lease) => Release(lease.Id, lease.Token);

    protected OperationResult<Lease> Release(long id, UInt128 token)
        => Engine.Release(new ReleaseLease { Now = Now, LeaseId = id, Token = token });

    protected OperationResult<Lease> Renew(Lease lease, long ttlMs = 0)
        => Engine.Renew(new RenewLease { Now = Now, LeaseId = lease.Id, Token = lease.Token, TtlMs = ttlMs });

    protected bool Cancel(Waiter waiter) => Engine.Cancel(new CancelWait { Now = Now, WaiterId = waiter.Id });

    protected Session OpenSession(long ttlMs = 10_000)
    {
        var result = Engine.Open(new OpenSession { Now = Now, TtlMs = ttlMs, Token = NewToken() });
        Assert.Equal(ErrorCode.None, result.Error);
        return result.Value!;
    }

    protected OperationResult<Session> CloseSession(Session session)
        => Engine.Close(new CloseSession { Now = Now, SessionId = session.Id, Token = session.Token });

    /// <summary>Takes the outcomes reported since the last call.</summary>
    protected List<WaiterOutcome> DrainOutcomes()
    {
        var outcomes = Engine.Outcomes.ToList();
        Engine.DiscardOutcomes();
        return outcomes;
    }

    /// <summary>Asserts exactly one outcome was reported, a grant for <paramref name="waiter"/>, and returns its lease.</summary>
    protected Lease GrantedOutcome(Waiter waiter)
    {
        var outcome = Assert.Single(DrainOutcomes());
        Assert.Equal(waiter.Id, outcome.WaiterId);
        Assert.Equal(ErrorCode.None, outcome.Error);
        Assert.NotNull(outcome.Lease);
        Assert.Equal(waiter.Token, outcome.Lease.Token);
        Assert.Same(outcome.Lease, Engine.GetLease(outcome.Lease.Id));
        return outcome.Lease;
    }

    /// <summary>Can an exclusive default-flag lock be taken on <paramref name="path"/> right now? Leaves no trace.</summary>
    protected bool IsLockable(string path, LockMode mode = LockMode.Exclusive, bool lockParents = true, bool lockChildren = true)
    {
        var result = Acquire(path, mode, lockParents: lockParents, lockChildren: lockChildren);
        if (result.Lease is { } lease)
        {
            Assert.Equal(ErrorCode.None, Release(lease).Error);
            return true;
        }
        Assert.Equal(ErrorCode.Locked, result.Error);
        return false;
    }

    protected IReadOnlyList<long> QueueIds() => [.. Engine.Queue.Select(w => w.Id)];

    protected IReadOnlyList<long> HeldIds() => [.. Engine.Leases.Select(l => l.Id).Order()];
}

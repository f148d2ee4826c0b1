using Leasehold.Core;

namespace Leasehold.Storage.Tests;

/// <summary>
/// Seeded random commands against whatever the engine holds now: acquires in every mode and flag
/// combination (with and without waiting, sessions, ttls, semaphore limits), releases, renewals, sessions
/// opened, kept alive and closed, cancelled waits, drops, and ticks with time moving forward. Ids and tokens
/// are mostly taken from the engine, sometimes wrong on purpose.
/// </summary>
public sealed class RandomWorkload(int seed)
{
    private static readonly string[] PathPool =
    [
        "/", "/a", "/a/b", "/a/b/c", "/a/d", "/e", "/e/f", "/caf\u00e9", "/caf\u00e9/\U0001F600", "/A", "/\u65e5\u672c/\u8a9e",
    ];

    private static readonly string?[] Owners = [null, "", "worker-1", "j\u00fcrgen", "\u96fb\u8166 \U0001F512"];

    private readonly Random _rng = new(seed);

    public Random Rng => _rng;

    /// <summary>Unix milliseconds of the newest command; only ever moves forward.</summary>
    public long Now { get; private set; } = Cmd.T0;

    public Command Next(LockEngine engine)
    {
        Now += _rng.Next(5) == 0 ? _rng.Next(0, 1_500) : _rng.Next(0, 30);
        return _rng.Next(100) switch
        {
            < 42 => Acquire(engine),
            < 54 => Release(engine),
            < 62 => Renew(engine),
            < 67 => new OpenSession { Now = Now, TtlMs = _rng.Next(1_000, 8_000), Owner = Owner(), Token = Token() },
            < 72 => KeepAlive(engine),
            < 75 => Close(engine),
            < 80 => Cancel(engine),
            < 99 => new Tick { Now = Now },
            _ => new DropWaiters { Now = Now },
        };
    }

    public Recover Recover() => new() { Now = Now, SessionGraceMs = _rng.Next(3) == 0 ? 0 : _rng.Next(1, 5_000) };

    private AcquireLease Acquire(LockEngine engine)
    {
        var count = _rng.Next(10) switch
        {
            < 7 => 1,
            < 9 => 2,
            _ => 3,
        };
        var paths = PathPool.OrderBy(_ => _rng.Next()).Take(count).Select(Cmd.P).ToArray();
        var shared = _rng.Next(3) == 0;
        return new AcquireLease
        {
            Now = Now,
            Paths = paths,
            Mode = shared ? LockMode.Shared : LockMode.Exclusive,
            Limit = shared || _rng.Next(3) != 0 ? null : _rng.Next(1, 4),
            TtlMs = _rng.Next(3) == 0 ? 0 : _rng.Next(100, 6_000),
            WaitMs = _rng.Next(2) == 0 ? 0 : _rng.Next(50, 4_000),
            SessionId = _rng.Next(3) switch
            {
                0 when engine.Sessions.Count > 0 => Pick(engine.Sessions, s => s.Id).Id,
                1 when _rng.Next(10) == 0 => _rng.Next(1, 1_000),
                _ => 0,
            },
            LockParents = _rng.Next(4) != 0,
            LockChildren = _rng.Next(4) != 0,
            Owner = Owner(),
            Token = Token(),
        };
    }

    private ReleaseLease Release(LockEngine engine)
    {
        var (id, token) = LeaseTarget(engine);
        return new ReleaseLease { Now = Now, LeaseId = id, Token = token };
    }

    private RenewLease Renew(LockEngine engine)
    {
        var (id, token) = LeaseTarget(engine);
        return new RenewLease { Now = Now, LeaseId = id, Token = token, TtlMs = _rng.Next(2) == 0 ? 0 : _rng.Next(100, 6_000) };
    }

    private (long Id, UInt128 Token) LeaseTarget(LockEngine engine)
    {
        if (engine.Leases.Count == 0 || _rng.Next(10) == 0)
        {
            return (_rng.Next(1, 2_000), Token());
        }
        var lease = Pick(engine.Leases, l => l.Id);
        return (lease.Id, _rng.Next(10) == 0 ? Token() : lease.Token);
    }

    private KeepAliveSession KeepAlive(LockEngine engine)
    {
        var (id, token) = SessionTarget(engine);
        return new KeepAliveSession { Now = Now, SessionId = id, Token = token };
    }

    private CloseSession Close(LockEngine engine)
    {
        var (id, token) = SessionTarget(engine);
        return new CloseSession { Now = Now, SessionId = id, Token = token };
    }

    private (long Id, UInt128 Token) SessionTarget(LockEngine engine)
    {
        if (engine.Sessions.Count == 0 || _rng.Next(10) == 0)
        {
            return (_rng.Next(1, 500), Token());
        }
        var session = Pick(engine.Sessions, s => s.Id);
        return (session.Id, _rng.Next(10) == 0 ? Token() : session.Token);
    }

    private CancelWait Cancel(LockEngine engine)
    {
        var waiters = engine.Queue.ToList();
        var id = waiters.Count == 0 || _rng.Next(10) == 0 ? _rng.Next(1, 2_000) : waiters[_rng.Next(waiters.Count)].Id;
        return new CancelWait { Now = Now, WaiterId = id };
    }

    /// <summary>A random item, chosen from the items in id order so the choice does not depend on hash order.</summary>
    private T Pick<T>(IReadOnlyCollection<T> items, Func<T, long> id) => items.OrderBy(id).ElementAt(_rng.Next(items.Count));

    private string? Owner() => Owners[_rng.Next(Owners.Length)];

    private UInt128 Token() => new((ulong)_rng.NextInt64(), (ulong)_rng.NextInt64());
}

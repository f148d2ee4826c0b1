using Leasehold.Core;
using Leasehold.Core.Pools;

namespace Leasehold.Storage.Tests;

/// <summary>
/// Seeded random commands against whatever the engine holds now: acquires in every mode and flag
/// combination (with and without waiting, sessions, ttls, semaphore limits), pool acquires (one or two
/// requirement groups, count 1 or 2, sometimes waiting, sometimes reusing), resources declared, re-declared
/// with other attributes and removed, releases, renewals, sessions opened, kept alive and closed, cancelled
/// waits, drops, administrators' revokes, session ends, drains and undrains (under principals), and ticks
/// with time moving forward. Ids and tokens are mostly taken from the engine,
/// sometimes wrong on purpose.
/// </summary>
public sealed class RandomWorkload(int seed)
{
    private static readonly string[] PathPool =
    [
        "/", "/a", "/a/b", "/a/b/c", "/a/d", "/e", "/e/f", "/caf\u00e9", "/caf\u00e9/\U0001F600", "/A", "/\u65e5\u672c/\u8a9e",
        "/pool", "/pool/r1",
    ];

    private static readonly string?[] Owners = [null, "", "worker-1", "j\u00fcrgen", "\u96fb\u8166 \U0001F512"];

    /// <summary>Where resources are declared: under pools that plain locks on "/", "/a" and "/pool" also cover.</summary>
    private static readonly string[] ResourcePaths =
    [
        "/pool/r1", "/pool/r2", "/pool/r3", "/pool/caf\u00e9", "/pool/\U0001F600/\u00e9", "/a/pool/x", "/a/pool/y", "/\u65e5\u672c/gpu",
    ];

    /// <summary>Pools to ask from, the busiest listed more than once (and one where nothing is ever declared).</summary>
    private static readonly string[] Pools = ["/pool", "/pool", "/pool", "/a/pool", "/a/pool", "/", "/\u65e5\u672c", "/pool/\U0001F600", "/nothing"];

    private static readonly string[] Requirements =
    [
        "{}", "{}", "{\"os\":\"a\"}", "{\"os\":\"a\"}", "{\"os\": \"b\"}", "{\"n\":{\"$gt\":2}}", "{\"n\":{\"$gt\":2}}", "{\"os\":\"a\",\"n\":{\"$lte\":2}}",
        "{\"\u540d\":\"\u03b1\"}", "{\"$or\":[{\"os\":\"b\"},{\"n\":4}]}", "{\"n\":{\"$bogus\":1}}",
    ];

    private readonly Random _rng = new(seed);

    public Random Rng => _rng;

    /// <summary>Unix milliseconds of the newest command; only ever moves forward.</summary>
    public long Now { get; private set; } = Cmd.T0;

    public Command Next(LockEngine engine)
    {
        Now += _rng.Next(5) == 0 ? _rng.Next(0, 1_500) : _rng.Next(0, 30);
        return _rng.Next(100) switch
        {
            < 27 => Acquire(engine),
            < 42 => PoolAcquire(engine),
            < 46 => Declare(),
            < 48 => Remove(engine),
            < 58 => Release(engine),
            < 65 => Renew(engine),
            < 69 => new OpenSession { Now = Now, TtlMs = _rng.Next(1_000, 8_000), Owner = Owner(), Principal = Owner(), Token = Token() },
            < 73 => KeepAlive(engine),
            < 76 => Close(engine),
            < 80 => Cancel(engine),
            < 82 => new RevokeLease { Now = Now, LeaseId = LeaseTarget(engine).Id, Actor = Owner() },
            < 83 => new EndSession { Now = Now, SessionId = SessionTarget(engine).Id, Actor = Owner() },
            < 85 => new DrainPrefix { Now = Now, Path = Cmd.P(PathPool[_rng.Next(PathPool.Length)]), Actor = Owner() },
            < 87 => Undrain(engine),
            < 99 => new Tick { Now = Now },
            _ => new DropWaiters { Now = Now },
        };
    }

    private AcquireLease PoolAcquire(LockEngine engine)
    {
        var groups = new PoolGroup[_rng.Next(3) == 0 ? 2 : 1];
        for (var i = 0; i < groups.Length; i++)
        {
            groups[i] = new PoolGroup(Cmd.P(Pools[_rng.Next(Pools.Length)]), Requirements[_rng.Next(Requirements.Length)], _rng.Next(3) == 0 ? 2 : 1);
        }
        var owner = Owner();
        var reuse = _rng.Next(4) == 0;
        (bool Same, string? Name) asker = (false, null);
        var held = engine.Leases.Where(l => l is { Groups: not null, Owner: not null }).ToList();
        UInt128? token = null;
        if (held.Count > 0 && _rng.Next(reuse ? 2 : 4) == 0)
        {
            // The same owner asking the same pools again: with reuse, a held lease is renewed and returned;
            // without, the owner comes to hold several such leases, and a later reuse must pick the same one
            // live and after a restart.
            var lease = Pick(held, l => l.Id);
            owner = lease.Owner;
            groups = [.. lease.Groups!.Select(g => g.Group)];
            // Reuse finds a lease by owner, token (the server derives a reuse request's token from the owner) and
            // principal (another principal naming the owner must not take the lease over).
            token = lease.Token;
            // Mostly the lease's own principal; now and then (without drawing, so the workload stays as it was)
            // another, who must not be given the lease.
            asker = (lease.Id % 8 != 0, lease.Principal);
        }
        return new AcquireLease
        {
            Now = Now,
            Paths = [],
            Groups = groups,
            Reuse = reuse,
            TtlMs = _rng.Next(3) == 0 ? 0 : _rng.Next(100, 6_000),
            WaitMs = _rng.Next(3) == 0 ? 0 : _rng.Next(50, 8_000),
            SessionId = _rng.Next(3) == 0 && engine.Sessions.Count > 0 ? Pick(engine.Sessions, s => s.Id).Id : 0,
            LockParents = _rng.Next(4) != 0,
            LockChildren = _rng.Next(4) != 0,
            Owner = owner,
            Principal = Owner() is var drawn && asker.Same ? asker.Name : drawn,
            Token = token ?? Token(),
        };
    }

    /// <summary>Declares a resource, or gives a declared one new attributes (which can make a pool waiter's request impossible).</summary>
    private DeclareResource Declare()
    {
        var os = _rng.Next(3) == 0 ? "b" : "a";
        var name = _rng.Next(4) == 0 ? ",\"\u540d\":\"\u03b1\"" : "";
        return new DeclareResource
        {
            Now = Now,
            Path = Cmd.P(ResourcePaths[_rng.Next(ResourcePaths.Length)]),
            Attributes = _rng.Next(20) == 0 ? "[1]" : $"{{\"os\":\"{os}\",\"n\":{_rng.Next(1, 5)}{name}}}",
        };
    }

    private RemoveResource Remove(LockEngine engine)
    {
        var declared = engine.ListDeclared(ResourcePath.Root);
        var path = declared.Count == 0 || _rng.Next(5) == 0
            ? Cmd.P(ResourcePaths[_rng.Next(ResourcePaths.Length)])
            : declared[_rng.Next(declared.Count)].Path;
        return new RemoveResource { Now = Now, Path = path };
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
            Principal = Owner(),
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

    /// <summary>Undrains a drained prefix, or (sometimes) one that is not drained.</summary>
    private UndrainPrefix Undrain(LockEngine engine)
    {
        var path = engine.Drains.Count == 0 || _rng.Next(5) == 0
            ? Cmd.P(PathPool[_rng.Next(PathPool.Length)])
            : engine.Drains.ElementAt(_rng.Next(engine.Drains.Count)).Path;
        return new UndrainPrefix { Now = Now, Path = path, Actor = Owner() };
    }

    private UInt128 Token() => new((ulong)_rng.NextInt64(), (ulong)_rng.NextInt64());
}

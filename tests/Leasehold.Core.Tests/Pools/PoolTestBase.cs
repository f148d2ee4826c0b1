using Leasehold.Core.Pools;

namespace Leasehold.Core.Tests.Pools;

/// <summary>
/// Helpers for pool tests on top of <see cref="EngineTestBase"/>: declare and remove resources, acquire by
/// requirement groups, and read what a lease chose. Every command carries the fake clock <see cref="EngineTestBase.Now"/>.
/// </summary>
public abstract class PoolTestBase : EngineTestBase
{
    protected static PoolGroup G(string pool, string require = "{}", int count = 1) => new(P(pool), require, count);

    protected DeclaredResource Declare(string path, string attributes = "{}")
    {
        var result = Engine.Declare(new DeclareResource { Now = Now, Path = P(path), Attributes = attributes });
        Assert.Equal(ErrorCode.None, result.Error);
        return result.Value!;
    }

    /// <summary>Declares <c>{pool}/{name}</c> for each name, all with the same attributes.</summary>
    protected void DeclareAll(string pool, string attributes, params string[] names)
    {
        foreach (var name in names)
        {
            Declare(pool + "/" + name, attributes);
        }
    }

    protected OperationResult<DeclaredResource> RemoveResource(string path)
        => Engine.Remove(new RemoveResource { Now = Now, Path = P(path) });

    protected AcquireResult AcquirePool(
        PoolGroup[] groups,
        long waitMs = 0,
        long ttlMs = 0,
        string? owner = null,
        bool reuse = false,
        long sessionId = 0,
        UInt128? token = null)
        => Engine.Acquire(new AcquireLease
        {
            Now = Now,
            Paths = [],
            Groups = groups,
            WaitMs = waitMs,
            TtlMs = ttlMs,
            Owner = owner,
            Reuse = reuse,
            SessionId = sessionId,
            // As the server does: a reuse request carries its owner's name-keyed token, so it finds its own lease.
            Token = token ?? (reuse && owner is not null ? OwnerTokens.For(owner) : NewToken()),
        });

    /// <summary>One group: <paramref name="count"/> resources under <paramref name="pool"/> matching <paramref name="require"/>.</summary>
    protected AcquireResult Take(string pool, string require = "{}", int count = 1, long waitMs = 0, long ttlMs = 0, string? owner = null, bool reuse = false)
        => AcquirePool([G(pool, require, count)], waitMs, ttlMs, owner, reuse);

    protected static string[] PathsOf(Claim claim) => [.. claim.Paths.Select(p => p.Value)];

    protected static string[] ChosenBy(Lease lease, int group) => [.. lease.Groups![group].Chosen.Select(p => p.Value)];

    /// <summary>The single path a one-resource pool lease holds.</summary>
    protected static string Only(Lease lease) => Assert.Single(lease.Paths).Value;

    /// <summary>The paths of the waiter's candidates, sorted, for comparisons that ignore order.</summary>
    protected static string[] Candidates(Waiter waiter) => [.. waiter.Paths.Select(p => p.Value).Order(StringComparer.Ordinal)];

    protected static string[] Sorted(params string[] paths) => [.. paths.Order(StringComparer.Ordinal)];

    /// <summary>Acquires from a pool and releases at once, returning the single path chosen.</summary>
    protected string TakeAndRelease(string pool, string require = "{}")
    {
        var lease = Granted(Take(pool, require));
        Assert.Equal(ErrorCode.None, Release(lease).Error);
        return Only(lease);
    }

    protected WaiterOutcome SingleOutcome(Waiter waiter, ErrorCode expected)
    {
        var outcome = Assert.Single(DrainOutcomes());
        Assert.Equal(waiter.Id, outcome.WaiterId);
        Assert.Equal(expected, outcome.Error);
        Assert.Null(Engine.GetWaiter(waiter.Id));
        return outcome;
    }
}

namespace Leasehold.Core.Tests;

/// <summary>The invariant checks used by the randomized test must be able to fail: feed them broken states.</summary>
public class EngineInvariantsTests
{
    private static Lease L(long fence, string path, LockMode mode = LockMode.Exclusive, int limit = 1, bool lockParents = true, bool lockChildren = true)
        => new()
        {
            Id = fence,
            Fence = fence,
            Paths = [Parse(path)],
            Mode = mode,
            Limit = mode == LockMode.Exclusive ? limit : 0,
            LockParents = lockParents,
            LockChildren = lockChildren,
        };

    private static Waiter W(long id, string path, LockMode mode = LockMode.Exclusive)
        => new() { Id = id, Paths = [Parse(path)], Mode = mode, Limit = mode == LockMode.Exclusive ? 1 : 0 };

    private static ResourcePath Parse(string text)
    {
        Assert.True(ResourcePath.TryParse(text, out var path, out _));
        return path;
    }

    [Fact]
    public void Conflicting_holders_are_reported()
    {
        Assert.Null(EngineInvariants.NoConflictingHolders([L(1, "/a"), L(2, "/b")]));
        Assert.Null(EngineInvariants.NoConflictingHolders([L(1, "/a/b", lockParents: false), L(2, "/a")]));
        Assert.NotNull(EngineInvariants.NoConflictingHolders([L(1, "/a"), L(2, "/a/b")]));
        Assert.NotNull(EngineInvariants.NoConflictingHolders([L(1, "/a/b"), L(2, "/a", lockChildren: false)]));
        Assert.NotNull(EngineInvariants.NoConflictingHolders([L(1, "/a", LockMode.Shared), L(2, "/a")]));
        Assert.NotNull(EngineInvariants.NoConflictingHolders([L(1, "/a"), L(2, "/a")]));
        Assert.Null(EngineInvariants.NoConflictingHolders([L(1, "/a", limit: 2), L(2, "/a", limit: 2)]));
        Assert.NotNull(EngineInvariants.NoConflictingHolders([L(1, "/a", limit: 2), L(2, "/a", limit: 3)]));
    }

    [Fact]
    public void Fences_out_of_grant_order_are_reported()
    {
        Assert.Null(EngineInvariants.FencesFollowGrantOrder([L(1, "/a"), L(3, "/b")], 3));
        Assert.NotNull(EngineInvariants.FencesFollowGrantOrder([L(3, "/a"), L(1, "/b")], 3));
        Assert.NotNull(EngineInvariants.FencesFollowGrantOrder([L(1, "/a"), L(3, "/b")], 2));
    }

    [Fact]
    public void Unsettled_or_reordered_queues_are_reported()
    {
        Assert.Null(EngineInvariants.QueueSettledInArrivalOrder([W(1, "/a"), W(2, "/a")], [L(1, "/a")]));
        Assert.NotNull(EngineInvariants.QueueSettledInArrivalOrder([W(2, "/a"), W(1, "/a")], [L(1, "/a")]));
        // Nothing holds /b: the waiter should have been granted.
        Assert.NotNull(EngineInvariants.QueueSettledInArrivalOrder([W(1, "/a"), W(2, "/b")], [L(1, "/a")]));
        // Blocked only by an older waiter: fine.
        Assert.Null(EngineInvariants.QueueSettledInArrivalOrder([W(1, "/a"), W(2, "/a/b", LockMode.Shared)], [L(1, "/a", lockChildren: false)]));
    }
}

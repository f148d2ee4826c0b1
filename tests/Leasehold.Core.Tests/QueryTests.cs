namespace Leasehold.Core.Tests;

public class QueryTests : EngineTestBase
{
    [Fact]
    public void GetResource_shows_exact_holders_and_waiters_oldest_first()
    {
        var s1 = Hold("/a", LockMode.Shared);
        var s2 = Hold("/a", LockMode.Shared);
        Hold("/a/b", LockMode.Shared);
        var w1 = Queued(Acquire("/a", waitMs: 1000));
        var w2 = Queued(AcquireMany(["/x", "/a"], waitMs: 1000));
        var state = Engine.GetResource(P("/a"));
        Assert.Equal(P("/a"), state.Path);
        Assert.Equal([s1.Id, s2.Id], state.Holders.Select(l => l.Id));
        Assert.Equal([w1.Id, w2.Id], state.Queue.Select(w => w.Id));
        Assert.Equal([w2.Id], Engine.GetResource(P("/x")).Queue.Select(w => w.Id));
    }

    [Fact]
    public void GetResource_of_an_unused_path_is_empty()
    {
        Hold("/a/b");
        var state = Engine.GetResource(P("/z"));
        Assert.Equal(P("/z"), state.Path);
        Assert.Empty(state.Holders);
        Assert.Empty(state.Queue);
        Assert.Empty(Engine.GetResource(P("/a")).Holders);
    }

    [Fact]
    public void ListHeld_lists_held_paths_under_a_prefix_depth_first_in_ordinal_segment_order()
    {
        Hold("/b", LockMode.Shared);
        Hold("/a/c", LockMode.Shared);
        Hold("/a", LockMode.Shared);
        Hold("/a/B", LockMode.Shared);
        Hold("/a/c/d", LockMode.Shared);
        Hold("/c/d/e", LockMode.Shared);
        Queued(Acquire("/a/z", waitMs: 1000));
        var waiter = Queued(Acquire("/a", waitMs: 1000));
        Assert.Equal(["/a", "/a/B", "/a/c", "/a/c/d", "/b", "/c/d/e"], Engine.ListHeld(P("/"), 100).Select(s => s.Path.Value));
        Assert.Equal(["/a", "/a/B", "/a/c", "/a/c/d"], Engine.ListHeld(P("/a"), 100).Select(s => s.Path.Value));
        Assert.Equal(["/a/c", "/a/c/d"], Engine.ListHeld(P("/a/c"), 100).Select(s => s.Path.Value));
        Assert.Equal(["/a", "/a/B"], Engine.ListHeld(P("/a"), 2).Select(s => s.Path.Value));
        Assert.Empty(Engine.ListHeld(P("/a/z"), 100));
        Assert.Empty(Engine.ListHeld(P("/q"), 100));
        var a = Engine.ListHeld(P("/a"), 1).Single();
        Assert.Single(a.Holders);
        Assert.Equal([waiter.Id], a.Queue.Select(w => w.Id));
    }

    [Fact]
    public void ListHeld_includes_the_root()
    {
        var root = Hold("/", LockMode.Shared);
        var state = Assert.Single(Engine.ListHeld(P("/"), 10));
        Assert.Equal(ResourcePath.Root, state.Path);
        Assert.Equal([root.Id], state.Holders.Select(l => l.Id));
    }

    [Fact]
    public void FindBlockers_reports_same_path_ancestor_and_descendant_holders()
    {
        var ancestor = Hold("/a", LockMode.Shared);
        var exact = Hold("/a/b", LockMode.Shared);
        var below = Hold("/a/b/c/d", LockMode.Shared);
        Hold("/a/b/x", LockMode.Shared, lockParents: false);
        Hold("/a/y", LockMode.Shared);
        Assert.Equal([ancestor.Id, exact.Id, below.Id], Engine.FindBlockers([P("/a/b")], LockMode.Exclusive).Select(l => l.Id));
        Assert.Empty(Engine.FindBlockers([P("/a/b")], LockMode.Shared));
    }

    [Fact]
    public void FindBlockers_skips_ancestors_without_lockChildren_and_honours_max()
    {
        Hold("/a", lockChildren: false);
        var b = Hold("/a/b");
        Assert.Equal([b.Id], Engine.FindBlockers([P("/a/b")], LockMode.Shared).Select(l => l.Id));
        Assert.Empty(Engine.FindBlockers([P("/a/c")], LockMode.Exclusive));

        var many = Enumerable.Range(0, 5).Select(i => Hold($"/m/{i}", LockMode.Shared)).ToList();
        Assert.Equal(3, Engine.FindBlockers([P("/m")], LockMode.Exclusive, max: 3).Count);
        Assert.Equal(5, Engine.FindBlockers([P("/m")], LockMode.Exclusive).Count);
    }

    [Fact]
    public void FindBlockers_over_several_paths_lists_each_lease_once()
    {
        var multi = Granted(AcquireMany(["/a", "/b"]));
        var c = Hold("/c");
        Assert.Equal([multi.Id, c.Id], Engine.FindBlockers(Ps("/a", "/b", "/c"), LockMode.Shared).Select(l => l.Id));
    }

    [Fact]
    public void CheckFence_is_current_only_for_leases_holding_the_path_now()
    {
        var a = Hold("/a", LockMode.Shared);
        var b = Hold("/a/b", LockMode.Shared);
        var sibling = Hold("/a/c", LockMode.Shared);
        var onAncestor = Engine.CheckFence(P("/a/b"), a.Fence);
        Assert.True(onAncestor.Current);
        Assert.Equal(P("/a/b"), onAncestor.Path);
        Assert.Equal(a.Fence, onAncestor.Fence);
        Assert.Equal([a.Id, b.Id], onAncestor.Holders.Select(l => l.Id));
        Assert.True(Engine.CheckFence(P("/a/b"), b.Fence).Current);
        Assert.False(Engine.CheckFence(P("/a/b"), sibling.Fence).Current);
        // A lease below a path does not hold the path.
        Assert.False(Engine.CheckFence(P("/a"), b.Fence).Current);
        Assert.False(Engine.CheckFence(P("/a/b"), 999).Current);
        Release(a);
        Assert.False(Engine.CheckFence(P("/a/b"), a.Fence).Current);
        Assert.Equal([b.Id], Engine.CheckFence(P("/a/b/deep"), b.Fence).Holders.Select(l => l.Id));
    }

    [Fact]
    public void CheckFence_ignores_ancestors_that_do_not_lock_their_children()
    {
        var a = Hold("/a", lockChildren: false);
        Assert.True(Engine.CheckFence(P("/a"), a.Fence).Current);
        Assert.False(Engine.CheckFence(P("/a/b"), a.Fence).Current);
        Assert.Empty(Engine.CheckFence(P("/a/b"), a.Fence).Holders);
    }

    [Fact]
    public void A_newer_fence_replaces_an_older_one_after_handoff()
    {
        var old = Hold("/a", ttlMs: 100);
        var waiter = Queued(Acquire("/a", waitMs: 1000));
        Engine.Advance(Now + 100);
        var fresh = GrantedOutcome(waiter);
        Assert.False(Engine.CheckFence(P("/a"), old.Fence).Current);
        Assert.True(Engine.CheckFence(P("/a"), fresh.Fence).Current);
        Assert.True(fresh.Fence > old.Fence);
    }
}

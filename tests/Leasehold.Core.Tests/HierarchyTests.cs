namespace Leasehold.Core.Tests;

/// <summary>The holder rule: the existing lease's flags decide whether a new claim above or below it is blocked.</summary>
public class HierarchyTests : EngineTestBase
{
    [Fact]
    public void Default_flags_lock_both_ancestors_and_descendants()
    {
        Hold("/a/b");
        Assert.False(IsLockable("/"));
        Assert.False(IsLockable("/a"));
        Assert.False(IsLockable("/a/b"));
        Assert.False(IsLockable("/a/b/c"));
        Assert.False(IsLockable("/a/b/c/d"));
        Assert.True(IsLockable("/a/c"));
        Assert.True(IsLockable("/b"));
    }

    [Fact]
    public void Root_lock_covers_every_path()
    {
        Hold("/");
        Assert.False(IsLockable("/"));
        Assert.False(IsLockable("/x"));
        Assert.False(IsLockable("/x/y/z", LockMode.Shared));
    }

    [Fact]
    public void Any_lock_keeps_the_root_from_being_locked_by_default()
    {
        Hold("/x/y/z");
        Assert.False(IsLockable("/"));
        Assert.False(IsLockable("/", LockMode.Shared));
    }

    [Fact]
    public void New_claims_own_flags_do_not_matter_against_holders()
    {
        Hold("/a/b");
        // Neither lockChildren=false on the new parent nor lockParents=false on the new child gets past a holder.
        Failed(ErrorCode.Locked, Acquire("/a", lockChildren: false));
        Failed(ErrorCode.Locked, Acquire("/a", lockParents: false, lockChildren: false));
        Failed(ErrorCode.Locked, Acquire("/a/b/c", lockParents: false));
        Failed(ErrorCode.Locked, Acquire("/a/b/c", lockParents: false, lockChildren: false));
    }

    [Fact]
    public void LockParents_false_holder_lets_ancestors_be_locked_but_not_descendants()
    {
        Hold("/a/b", lockParents: false);
        Assert.True(IsLockable("/a"));
        Assert.True(IsLockable("/"));
        Assert.False(IsLockable("/a/b/c"));
        Assert.False(IsLockable("/a/b"));
    }

    [Fact]
    public void LockChildren_false_holder_lets_descendants_be_locked_but_not_ancestors()
    {
        Hold("/a/b", lockChildren: false);
        Assert.True(IsLockable("/a/b/c"));
        Assert.True(IsLockable("/a/b/c/d"));
        Assert.False(IsLockable("/a"));
        Assert.False(IsLockable("/a/b"));
    }

    [Fact]
    public void The_rule_is_asymmetric_the_later_lease_may_cover_the_earlier_one()
    {
        var child = Hold("/a/b", lockParents: false);
        var parent = Hold("/a");
        // Both are held; the parent now covers the child: nothing new may go below.
        Assert.Equal([child.Id, parent.Id], HeldIds());
        Assert.False(IsLockable("/a/c"));
        Assert.False(IsLockable("/a/b/c"));
    }

    [Fact]
    public void Holder_flags_apply_per_holder_not_per_path()
    {
        Hold("/a/b", LockMode.Shared, lockParents: false);
        Assert.True(IsLockable("/a"));
        Hold("/a/b", LockMode.Shared);
        Assert.False(IsLockable("/a"));
    }

    [Fact]
    public void Deep_descendant_with_lockParents_blocks_every_ancestor()
    {
        Hold("/a/b/c/d/e");
        foreach (var ancestor in new[] { "/", "/a", "/a/b", "/a/b/c", "/a/b/c/d" })
        {
            Assert.False(IsLockable(ancestor), ancestor);
        }
        Assert.True(IsLockable("/a/b/c/x"));
    }

    [Fact]
    public void Released_lease_stops_covering()
    {
        var lease = Hold("/a/b");
        Assert.False(IsLockable("/a"));
        Assert.Equal(ErrorCode.None, Release(lease).Error);
        Assert.True(IsLockable("/a"));
        Assert.True(IsLockable("/a/b/c"));
        Assert.Empty(Engine.ListHeld(P("/"), 10));
    }
}

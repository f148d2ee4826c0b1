namespace Leasehold.Core.Tests;

/// <summary>
/// The worked cases of Locker 1.0b's hierarchy rules (seeds.md 2.3), one test each. Locker only has
/// exclusive locks with lockParents/lockChildren defaulting to true. Its <c>dohaz</c> / <c>lockedBy</c>
/// answers translate to who holds or blocks: <see cref="LockEngine.FindBlockers"/> and
/// <see cref="LockEngine.CheckFence"/>.
/// </summary>
public class LockerCaseTests : EngineTestBase
{
    [Fact]
    public void Defaults_are_Lockers_lockParents_and_lockChildren_true()
    {
        var command = new AcquireLease { Paths = [ResourcePath.Root] };
        Assert.True(command.LockParents);
        Assert.True(command.LockChildren);
        Assert.Equal(LockMode.Exclusive, command.Mode);
    }

    [Fact]
    public void FooBar_locked_by_default_Foo_is_not_lockable()
    {
        var bar = Hold("/foo/bar");
        Failed(ErrorCode.Locked, Acquire("/foo"));
        Assert.Equal([bar.Id], Engine.FindBlockers([P("/foo")], LockMode.Exclusive).Select(l => l.Id));
    }

    [Fact]
    public void FooBar_locked_by_default_FooBarBaz_is_not_lockable()
    {
        var bar = Hold("/foo/bar");
        Failed(ErrorCode.Locked, Acquire("/foo/bar/baz"));
        Assert.Equal([bar.Id], Engine.FindBlockers([P("/foo/bar/baz")], LockMode.Exclusive).Select(l => l.Id));
        // dohaz /foo/bar/baz: covered by /foo/bar.
        Assert.Equal([bar.Id], Engine.CheckFence(P("/foo/bar/baz"), bar.Fence).Holders.Select(l => l.Id));
    }

    [Fact]
    public void FooBar_locked_by_default_sibling_FooZip_is_lockable()
    {
        Hold("/foo/bar");
        Granted(Acquire("/foo/zip"));
        Assert.Empty(Engine.FindBlockers([P("/foo/zap")], LockMode.Exclusive));
    }

    [Fact]
    public void FooBar_without_lockParents_Foo_is_lockable()
    {
        Hold("/foo/bar", lockParents: false);
        Granted(Acquire("/foo"));
    }

    [Fact]
    public void FooBar_without_lockParents_then_Foo_covers_FooBar_and_is_reported_as_outermost()
    {
        var bar = Hold("/foo/bar", lockParents: false);
        var foo = Hold("/foo");

        // dohaz /foo/bar reports /foo's id, the outermost covering lock: walking from the root, /foo comes first.
        var fence = Engine.CheckFence(P("/foo/bar"), foo.Fence);
        Assert.True(fence.Current);
        Assert.Equal([foo.Id, bar.Id], fence.Holders.Select(l => l.Id));
        Assert.Equal(foo.Id, Engine.FindBlockers([P("/foo/bar")], LockMode.Exclusive)[0].Id);
        Failed(ErrorCode.Locked, Acquire("/foo/bar/x"));
        Failed(ErrorCode.Locked, Acquire("/foo/other"));
    }

    [Fact]
    public void Bar_without_lockChildren_BarFoo_is_lockable()
    {
        Hold("/bar", lockChildren: false);
        Granted(Acquire("/bar/foo"));
    }

    [Fact]
    public void Bar_without_lockChildren_Bar_itself_stays_locked_and_dohaz_Bar_reports_Bar()
    {
        var bar = Hold("/bar", lockChildren: false);
        var child = Hold("/bar/foo");
        Failed(ErrorCode.Locked, Acquire("/bar"));
        Assert.Equal([bar.Id, child.Id], Engine.FindBlockers([P("/bar")], LockMode.Exclusive).Select(l => l.Id));
        Assert.Equal([bar.Id], Engine.CheckFence(P("/bar"), bar.Fence).Holders.Select(l => l.Id));
        // /bar does not cover /bar/foo: only the child's own lease is current there.
        Assert.Equal([child.Id], Engine.CheckFence(P("/bar/foo"), child.Fence).Holders.Select(l => l.Id));
        Assert.False(Engine.CheckFence(P("/bar/foo"), bar.Fence).Current);
    }

    [Fact]
    public void LockChildren_false_on_a_parent_does_not_let_you_lock_a_parent_whose_child_is_locked()
    {
        var child = Hold("/foo/bar");
        Failed(ErrorCode.Locked, Acquire("/foo", lockChildren: false));
        Assert.Equal([child.Id], Engine.FindBlockers([P("/foo")], LockMode.Exclusive).Select(l => l.Id));
    }

    [Fact]
    public void Only_lockParents_false_on_the_child_lets_you_lock_the_parent()
    {
        Hold("/foo/bar", lockParents: false);
        Granted(Acquire("/foo", lockChildren: false));
        Assert.Equal(2, Engine.Leases.Count);
    }

    [Fact]
    public void Both_flags_false_only_the_exact_path_is_locked()
    {
        var lease = Hold("/a/x", lockParents: false, lockChildren: false);
        Assert.True(IsLockable("/a"));
        Assert.True(IsLockable("/"));
        Assert.True(IsLockable("/a/x/y"));
        Assert.True(IsLockable("/a/x/y/z"));
        Assert.False(IsLockable("/a/x"));
        Assert.False(IsLockable("/a/x", LockMode.Shared));
        Assert.Equal([lease.Id], Engine.FindBlockers([P("/a/x")], LockMode.Exclusive).Select(l => l.Id));
        Assert.Empty(Engine.FindBlockers([P("/a")], LockMode.Exclusive));
        Assert.Empty(Engine.FindBlockers([P("/a/x/y")], LockMode.Exclusive));
    }

    [Fact]
    public void Dohaz_on_a_partially_locked_parent_reports_the_child_locks_under_it()
    {
        var bar = Hold("/foo/bar");
        var baz = Hold("/foo/baz");
        Hold("/other/x");
        Failed(ErrorCode.Locked, Acquire("/foo"));
        var blockers = Engine.FindBlockers([P("/foo")], LockMode.Exclusive);
        Assert.Equal([bar.Id, baz.Id], blockers.Select(l => l.Id).Order());
        var first = Assert.Single(Engine.FindBlockers([P("/foo")], LockMode.Exclusive, max: 1));
        Assert.Contains(first.Id, new[] { bar.Id, baz.Id });
        // The parent is not held itself: no fencing token is current on it.
        Assert.Empty(Engine.CheckFence(P("/foo"), bar.Fence).Holders);
    }

    [Fact]
    public void Locker_bug_not_reproduced_root_lock_blocks_everything()
    {
        var root = Hold("/");
        Failed(ErrorCode.Locked, Acquire("/"));
        Failed(ErrorCode.Locked, Acquire("/foo"));
        Assert.Equal([root.Id], Engine.FindBlockers([P("/foo/bar")], LockMode.Exclusive).Select(l => l.Id));
        Assert.True(Engine.CheckFence(P("/foo/bar"), root.Fence).Current);
    }

    [Fact]
    public void Locker_bug_not_reproduced_empty_owner_does_not_allow_overwriting()
    {
        var first = Granted(Acquire("/foo", owner: ""));
        Failed(ErrorCode.Locked, Acquire("/foo", owner: ""));
        Failed(ErrorCode.Locked, Acquire("/foo"));
        Assert.Equal([first.Id], HeldIds());
        Assert.Equal(ErrorCode.None, Release(first).Error);
        Assert.Empty(Engine.Leases);
        Granted(Acquire("/foo"));
    }

    [Fact]
    public void Locker_unlock_needs_the_exact_lease_and_token()
    {
        var foo = Hold("/foo");
        Assert.Equal(ErrorCode.InvalidToken, Release(foo.Id, foo.Token + 1).Error);
        Assert.Equal(ErrorCode.NotFound, Release(foo.Id + 1, foo.Token).Error);
        Assert.Same(foo, Engine.GetLease(foo.Id));
        Assert.Equal(ErrorCode.None, Release(foo).Error);
    }
}

namespace Leasehold.Core.Tests;

public class ModeTests : EngineTestBase
{
    [Fact]
    public void Exclusive_excludes_exclusive_and_shared_on_the_same_path()
    {
        var lease = Hold("/a");
        Assert.Equal(LockMode.Exclusive, lease.Mode);
        Assert.Equal(1, lease.Limit);
        Failed(ErrorCode.Locked, Acquire("/a"));
        Failed(ErrorCode.Locked, Acquire("/a", LockMode.Shared));
        Assert.Equal([lease.Id], HeldIds());
    }

    [Fact]
    public void Shared_holders_coexist_and_keep_exclusive_out()
    {
        var first = Hold("/a", LockMode.Shared);
        var second = Hold("/a", LockMode.Shared);
        Assert.Equal(0, first.Limit);
        Failed(ErrorCode.Locked, Acquire("/a"));
        Assert.Equal([first.Id, second.Id], Engine.GetResource(P("/a")).Holders.Select(l => l.Id));
    }

    [Fact]
    public void Exclusive_is_free_again_once_the_last_shared_holder_leaves()
    {
        var first = Hold("/a", LockMode.Shared);
        var second = Hold("/a", LockMode.Shared);
        Release(first);
        Failed(ErrorCode.Locked, Acquire("/a"));
        Release(second);
        Granted(Acquire("/a"));
    }

    [Fact]
    public void Shared_does_not_conflict_with_shared_across_the_hierarchy()
    {
        Hold("/a", LockMode.Shared);
        Hold("/a/b", LockMode.Shared);
        Hold("/", LockMode.Shared);
        Hold("/a/b/c", LockMode.Shared);
        Assert.Equal(4, Engine.Leases.Count);
    }

    [Fact]
    public void Shared_ancestor_blocks_an_exclusive_descendant_and_vice_versa()
    {
        Hold("/a", LockMode.Shared);
        Failed(ErrorCode.Locked, Acquire("/a/b"));
        Hold("/x/y", LockMode.Shared);
        Failed(ErrorCode.Locked, Acquire("/x"));
        Granted(Acquire("/x", LockMode.Shared));
    }

    [Fact]
    public void Exclusive_ancestor_blocks_a_shared_descendant()
    {
        Hold("/a");
        Failed(ErrorCode.Locked, Acquire("/a/b/c", LockMode.Shared));
        Granted(Acquire("/b/c", LockMode.Shared));
    }

    [Fact]
    public void An_undefined_mode_is_an_invalid_argument()
    {
        Failed(ErrorCode.InvalidArgument, Acquire("/a", (LockMode)7));
        Assert.Empty(Engine.Leases);
    }
}

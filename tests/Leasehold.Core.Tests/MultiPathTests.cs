namespace Leasehold.Core.Tests;

public class MultiPathTests : EngineTestBase
{
    [Fact]
    public void All_paths_are_granted_together_in_one_lease()
    {
        var lease = Granted(AcquireMany(["/a", "/b", "/c/d"]));
        Assert.Equal(Ps("/a", "/b", "/c/d"), lease.Paths);
        foreach (var path in new[] { "/a", "/b", "/c/d" })
        {
            Assert.Equal([lease.Id], Engine.GetResource(P(path)).Holders.Select(l => l.Id));
        }
        Assert.Equal(lease.Fence, Engine.LastFence);
    }

    [Fact]
    public void One_blocked_path_means_nothing_is_granted()
    {
        var b = Hold("/b");
        Failed(ErrorCode.Locked, AcquireMany(["/a", "/b"]));
        Assert.Empty(Engine.GetResource(P("/a")).Holders);
        Assert.Equal([b.Id], HeldIds());
        Granted(Acquire("/a"));
    }

    [Fact]
    public void One_blocked_path_makes_the_whole_request_wait_and_take_nothing_meanwhile()
    {
        var b = Hold("/b");
        var waiter = Queued(AcquireMany(["/a", "/b"], waitMs: 1000));
        Assert.Empty(Engine.GetResource(P("/a")).Holders);
        Assert.Equal([waiter.Id], Engine.GetResource(P("/a")).Queue.Select(w => w.Id));
        Release(b);
        var lease = GrantedOutcome(waiter);
        Assert.Equal(Ps("/a", "/b"), lease.Paths);
    }

    [Fact]
    public void Releasing_a_multi_path_lease_frees_every_path()
    {
        var lease = Granted(AcquireMany(["/a", "/b/c"]));
        Release(lease);
        Assert.Empty(Engine.ListHeld(P("/"), 100));
        Granted(Acquire("/a"));
        Granted(Acquire("/b"));
    }

    [Fact]
    public void Duplicate_paths_are_an_invalid_argument()
    {
        Failed(ErrorCode.InvalidArgument, AcquireMany(["/a", "/b", "/a"]));
        Failed(ErrorCode.InvalidArgument, AcquireMany(["/", "/"], LockMode.Shared));
        Assert.Empty(Engine.Leases);
    }

    [Fact]
    public void Nested_paths_in_one_request_do_not_conflict_with_each_other()
    {
        var lease = Granted(AcquireMany(["/a", "/a/b", "/a/b/c"]));
        Assert.Equal(3, lease.Paths.Length);
        Failed(ErrorCode.Locked, Acquire("/a/b/c"));
        Release(lease);
        Granted(AcquireMany(["/a/b", "/"], limit: 2));
    }

    [Fact]
    public void No_paths_is_an_invalid_argument()
    {
        Failed(ErrorCode.InvalidArgument, AcquireMany([]));
    }

    [Fact]
    public void At_most_64_paths_per_request()
    {
        var paths64 = Enumerable.Range(0, 64).Select(i => $"/p{i}").ToArray();
        var paths65 = Enumerable.Range(0, 65).Select(i => $"/q{i}").ToArray();
        Assert.Equal(64, Granted(AcquireMany(paths64)).Paths.Length);
        Failed(ErrorCode.InvalidArgument, AcquireMany(paths65));
        Assert.Empty(Engine.GetResource(P("/q0")).Holders);
    }

    [Fact]
    public void Multi_path_shared_and_exclusive_mix_across_requests()
    {
        Granted(AcquireMany(["/a", "/b"], LockMode.Shared));
        Granted(AcquireMany(["/b", "/c"], LockMode.Shared));
        Failed(ErrorCode.Locked, AcquireMany(["/c", "/d"]));
        Granted(AcquireMany(["/d", "/e"]));
    }
}

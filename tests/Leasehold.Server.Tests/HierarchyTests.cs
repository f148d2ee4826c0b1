using System.Net;

namespace Leasehold.Server.Tests;

/// <summary>The holder rule over HTTP: ancestors and descendants, the holder's flags, modes, semaphores, all-or-nothing.</summary>
public sealed class HierarchyTests : ServerTestBase
{
    private async Task AssertLockedByAsync(string body, params long[] holders)
    {
        using var response = await AcquireAsync(body);
        var problem = await AssertProblemAsync(response, HttpStatusCode.Conflict, "locked");
        Assert.Equal(holders.Order(), HolderIds(problem).Order());
    }

    [Fact]
    public async Task ALockBlocksItsAncestorsAndDescendantsButNotSiblings()
    {
        var bar = await AcquireOkAsync("""{"path":"/foo/bar"}""");
        await AssertLockedByAsync("""{"path":"/foo"}""", bar.Id);
        await AssertLockedByAsync("""{"path":"/foo/bar"}""", bar.Id);
        await AssertLockedByAsync("""{"path":"/foo/bar/baz"}""", bar.Id);
        await AssertLockedByAsync("""{"path":"/"}""", bar.Id);
        await AcquireOkAsync("""{"path":"/foo/zip"}""");
        await AcquireOkAsync("""{"path":"/foo/barn"}""");
    }

    [Fact]
    public async Task HolderWithoutLockParentsLeavesAncestorsFree()
    {
        var bar = await AcquireOkAsync("""{"path":"/foo/bar","lockParents":false}""");
        await AssertLockedByAsync("""{"path":"/foo/bar/baz"}""", bar.Id);
        // /foo locks its children by default, but the holder's flags decide: /foo is grantable.
        var foo = await AcquireOkAsync("""{"path":"/foo"}""");
        // Now /foo (locking its children) blocks the rest of the subtree.
        await AssertLockedByAsync("""{"path":"/foo/zip"}""", foo.Id);
    }

    [Fact]
    public async Task HolderWithoutLockChildrenLeavesDescendantsFree()
    {
        var foo = await AcquireOkAsync("""{"path":"/foo","lockChildren":false}""");
        await AssertLockedByAsync("""{"path":"/foo"}""", foo.Id);
        await AcquireOkAsync("""{"path":"/foo/bar"}""");
        await AcquireOkAsync("""{"path":"/foo/zip/deep"}""");
    }

    [Fact]
    public async Task TheNewRequestsFlagsDoNotMatter()
    {
        var bar = await AcquireOkAsync("""{"path":"/foo/bar"}""");
        await AssertLockedByAsync("""{"path":"/foo","lockChildren":false}""", bar.Id);
        await AssertLockedByAsync("""{"path":"/foo/bar/baz","lockParents":false}""", bar.Id);
    }

    [Fact]
    public async Task SharedHoldersCoexistAndBlockExclusive()
    {
        var one = await AcquireOkAsync("""{"path":"/db","mode":"shared"}""");
        var two = await AcquireOkAsync("""{"path":"/db","mode":"shared"}""");
        var child = await AcquireOkAsync("""{"path":"/db/orders","mode":"shared"}""");
        Assert.Equal([one.Id, two.Id], HolderIds(await GetResourceAsync("/db")).Order());

        await AssertLockedByAsync("""{"path":"/db"}""", one.Id, two.Id, child.Id);
        await AssertLockedByAsync("""{"path":"/db/users"}""", one.Id, two.Id);

        await ReleaseOkAsync(one);
        await ReleaseOkAsync(two);
        await AssertLockedByAsync("""{"path":"/db"}""", child.Id);
        await ReleaseOkAsync(child);
        await AcquireOkAsync("""{"path":"/db"}""");
    }

    [Fact]
    public async Task ExclusiveBlocksShared()
    {
        var exclusive = await AcquireOkAsync("""{"path":"/db"}""");
        await AssertLockedByAsync("""{"path":"/db","mode":"shared"}""", exclusive.Id);
        await AssertLockedByAsync("""{"path":"/db/t","mode":"shared"}""", exclusive.Id);
    }

    [Fact]
    public async Task SemaphoreWithLimitTwo()
    {
        var first = await AcquireOkAsync("""{"path":"/lic","limit":2}""");
        var second = await AcquireOkAsync("""{"path":"/lic","limit":2}""");
        Assert.Equal([first.Id, second.Id], HolderIds(await GetResourceAsync("/lic")).Order());
        await AssertLockedByAsync("""{"path":"/lic","limit":2}""", first.Id, second.Id);
        // Each slot is still exclusive toward the rest of the tree.
        await AssertLockedByAsync("""{"path":"/lic/x"}""", first.Id, second.Id);

        await ReleaseOkAsync(first);
        var third = await AcquireOkAsync("""{"path":"/lic","limit":2}""");
        Assert.Equal([second.Id, third.Id], HolderIds(await GetResourceAsync("/lic")).Order());
    }

    [Fact]
    public async Task MultiPathIsAllOrNothing()
    {
        var a = await AcquireOkAsync("""{"path":"/a"}""");
        await AssertLockedByAsync("""{"paths":["/b","/a"]}""", a.Id);
        Assert.Empty(HolderIds(await GetResourceAsync("/b")));
        await AcquireOkAsync("""{"path":"/b"}""");

        // Nested paths in one request do not conflict with each other.
        var nested = await AcquireOkAsync("""{"paths":["/n","/n/m"]}""");
        Assert.Equal([nested.Id], HolderIds(await GetResourceAsync("/n/m")));
    }
}

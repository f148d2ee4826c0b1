using System.Net;
using System.Text.Json;

namespace Leasehold.Server.Tests;

/// <summary>
/// <c>GET /v1/resources/{path}</c> names what blocks a path besides its own holders and queue: leases
/// above and below it, and requests queued above and below it.
/// </summary>
public sealed class BlockedByTests : ServerTestBase
{
    private static long[] Ids(JsonElement resource, string property)
        => [.. resource.GetProperty(property).EnumerateArray().Select(h => h.GetProperty("id").GetInt64())];

    [Fact]
    public async Task AParentHeldBelowNamesTheChildsLease()
    {
        var child = await AcquireOkAsync("""{"path":"/parent/child","owner":"child-holder"}""");
        // Neither of these blocks /parent: one does not lock its parents, the other is a sibling's.
        await AcquireOkAsync("""{"path":"/parent/free","lockParents":false}""");
        await AcquireOkAsync("""{"path":"/other"}""");

        var parent = await GetResourceAsync("/parent");
        Assert.Empty(HolderIds(parent));
        Assert.Equal([child.Id], Ids(parent, "blockedBy"));
        Assert.Equal("child-holder", parent.GetProperty("blockedBy")[0].GetProperty("owner").GetString());
        Assert.Equal(["/parent/child"], parent.GetProperty("blockedBy")[0].GetProperty("paths").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(0, parent.GetProperty("queuedAhead").GetArrayLength());

        // What the view says is what an acquire finds.
        using var refused = await AcquireAsync("""{"path":"/parent"}""");
        var problem = await AssertProblemAsync(refused, HttpStatusCode.Conflict, "locked");
        Assert.Equal([child.Id], HolderIds(problem));

        // The holder's own path lists it as a holder, not again as a blocker.
        var exact = await GetResourceAsync("/parent/child");
        Assert.Equal([child.Id], HolderIds(exact));
        Assert.Equal(0, exact.GetProperty("blockedBy").GetArrayLength());
    }

    [Fact]
    public async Task ADescendantIsBlockedByAnAncestorThatLocksItsChildren()
    {
        var top = await AcquireOkAsync("""{"path":"/top","mode":"shared"}""");
        await AcquireOkAsync("""{"path":"/open","lockChildren":false}""");

        Assert.Equal([top.Id], Ids(await GetResourceAsync("/top/a/b"), "blockedBy"));
        Assert.Empty(Ids(await GetResourceAsync("/open/a"), "blockedBy"));
    }

    [Fact]
    public async Task RequestsQueuedAboveAndBelowAreShownOldestFirst()
    {
        var holder = await AcquireOkAsync("""{"path":"/line/mid"}""");
        var below = AcquireAsync("""{"path":"/line/mid/leaf","owner":"below","wait":30}""", Server.CreateClient());
        await WaitForQueueAsync("/line/mid/leaf", 1);
        var above = AcquireAsync("""{"path":"/line","owner":"above","wait":30}""", Server.CreateClient());
        await WaitForQueueAsync("/line", 1);

        var mid = await GetResourceAsync("/line/mid");
        Assert.Equal([holder.Id], HolderIds(mid));
        Assert.Equal(0, mid.GetProperty("queue").GetArrayLength());
        Assert.Equal(["below", "above"], mid.GetProperty("queuedAhead").EnumerateArray().Select(w => w.GetProperty("owner").GetString()));

        // A waiter on the path itself is in its queue, not repeated among those ahead.
        var leaf = await GetResourceAsync("/line/mid/leaf");
        Assert.Equal(["below"], QueueOwners(leaf));
        Assert.Equal(["above"], leaf.GetProperty("queuedAhead").EnumerateArray().Select(w => w.GetProperty("owner").GetString()));
        Assert.Equal([holder.Id], Ids(leaf, "blockedBy"));

        // Listings stay as they were: the fields belong to the one-path view.
        var list = await GetJsonAsync("/v1/resources?prefix=/line");
        var listed = Assert.Single(list.GetProperty("resources").EnumerateArray());
        Assert.False(listed.TryGetProperty("blockedBy", out _));
        Assert.False(listed.TryGetProperty("queuedAhead", out _));

        await ReleaseOkAsync(holder);
        using var first = await below.WaitAsync(TestServer.Timeout);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        await ReleaseOkAsync(ToHeld(await ReadJsonAsync(first, HttpStatusCode.Created)));
        using var second = await above.WaitAsync(TestServer.Timeout);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
    }
}

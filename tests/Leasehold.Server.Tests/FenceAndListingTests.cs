using System.Net;
using System.Text.Json;

namespace Leasehold.Server.Tests;

/// <summary>The fencing check and the listing of held paths.</summary>
public sealed class FenceAndListingTests : ServerTestBase
{
    private async Task<JsonElement> FenceAsync(string routePath, long fence) => await GetJsonAsync($"/v1/fences{routePath}?fence={fence}");

    private static string[] Paths(JsonElement listing)
        => [.. listing.GetProperty("resources").EnumerateArray().Select(r => r.GetProperty("path").GetString()!)];

    [Fact]
    public async Task TheHoldersFenceIsCurrentAndAnOlderOneIsNotAfterHandoff()
    {
        var a = await AcquireOkAsync("""{"path":"/f"}""");
        var check = await FenceAsync("/f", a.Fence);
        Assert.Equal("/f", check.GetProperty("path").GetString());
        Assert.Equal(a.Fence, check.GetProperty("fence").GetInt64());
        Assert.True(check.GetProperty("current").GetBoolean());
        Assert.Equal([a.Fence], check.GetProperty("fences").EnumerateArray().Select(f => f.GetInt64()));
        Assert.False((await FenceAsync("/f", a.Fence + 1000)).GetProperty("current").GetBoolean());

        var waiter = AcquireAsync("""{"path":"/f","wait":10}""", Server.CreateClient());
        await WaitForQueueAsync("/f", 1);
        await ReleaseOkAsync(a);
        using var response = await Bounded(waiter);
        var b = ToHeld(await ReadJsonAsync(response, HttpStatusCode.Created));

        var old = await FenceAsync("/f", a.Fence);
        Assert.False(old.GetProperty("current").GetBoolean());
        Assert.Equal([b.Fence], old.GetProperty("fences").EnumerateArray().Select(f => f.GetInt64()));
        Assert.True((await FenceAsync("/f", b.Fence)).GetProperty("current").GetBoolean());
    }

    [Fact]
    public async Task AnAncestorThatLocksItsChildrenFencesThem()
    {
        var locking = await AcquireOkAsync("""{"path":"/anc"}""");
        Assert.True((await FenceAsync("/anc/sub/leaf", locking.Fence)).GetProperty("current").GetBoolean());

        var open = await AcquireOkAsync("""{"path":"/open","lockChildren":false}""");
        var below = await FenceAsync("/open/sub", open.Fence);
        Assert.False(below.GetProperty("current").GetBoolean());
        Assert.Empty(below.GetProperty("fences").EnumerateArray());
    }

    [Fact]
    public async Task AFreePathHasNoCurrentFence()
    {
        var free = await FenceAsync("/free", 1);
        Assert.False(free.GetProperty("current").GetBoolean());
        Assert.Empty(free.GetProperty("fences").EnumerateArray());
    }

    [Fact]
    public async Task FenceParameterIsRequired()
    {
        var a = await AcquireOkAsync("""{"path":"/f"}""");
        using var response = await GetAsync("/v1/fences/f");
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-argument");
        await AssertStillHeldAsync(a, "/f");
    }

    [Fact]
    public async Task ListingShowsHeldPathsUnderThePrefixOnlyInOrdinalOrder()
    {
        await AcquireOkAsync("""{"path":"/lab/b/c"}""");
        var a = await AcquireOkAsync("""{"path":"/lab/a","owner":"alice"}""");
        await AcquireOkAsync("""{"path":"/labx"}""");
        await AcquireOkAsync("""{"path":"/other"}""");
        await AcquireOkAsync("""{"path":"/lab/B"}""");
        // A waiter for a path makes it wanted, not held: it is not listed.
        var waiter = AcquireAsync("""{"path":"/lab","wait":10}""", Server.CreateClient());
        await WaitForQueueAsync("/lab", 1);

        var lab = await GetJsonAsync("/v1/resources?prefix=/lab");
        Assert.Equal("/lab", lab.GetProperty("prefix").GetString());
        Assert.Equal(["/lab/B", "/lab/a", "/lab/b/c"], Paths(lab));
        Assert.False(lab.GetProperty("truncated").GetBoolean());
        var first = lab.GetProperty("resources")[1];
        Assert.Equal([a.Id], HolderIds(first));
        Assert.Equal("alice", first.GetProperty("holders")[0].GetProperty("owner").GetString());
        Assert.False(first.GetProperty("holders")[0].TryGetProperty("token", out _));

        var all = await GetJsonAsync("/v1/resources");
        Assert.Equal("/", all.GetProperty("prefix").GetString());
        Assert.Equal(["/lab/B", "/lab/a", "/lab/b/c", "/labx", "/other"], Paths(all));

        Assert.Equal(["/lab/b/c"], Paths(await GetJsonAsync("/v1/resources?prefix=/lab/b")));
        Assert.Empty(Paths(await GetJsonAsync("/v1/resources?prefix=/nothing")));
        Assert.False(waiter.IsCompleted);
    }

    [Fact]
    public async Task ListingLimitTruncates()
    {
        foreach (var name in new[] { "a", "b", "c" })
        {
            await AcquireOkAsync($$"""{"path":"/lab/{{name}}"}""");
        }
        var one = await GetJsonAsync("/v1/resources?prefix=/lab&limit=1");
        Assert.Equal(["/lab/a"], Paths(one));
        Assert.True(one.GetProperty("truncated").GetBoolean());

        var two = await GetJsonAsync("/v1/resources?prefix=/lab&limit=2");
        Assert.Equal(["/lab/a", "/lab/b"], Paths(two));
        Assert.True(two.GetProperty("truncated").GetBoolean());

        var three = await GetJsonAsync("/v1/resources?prefix=/lab&limit=3");
        Assert.Equal(["/lab/a", "/lab/b", "/lab/c"], Paths(three));
        Assert.False(three.GetProperty("truncated").GetBoolean());
    }
}

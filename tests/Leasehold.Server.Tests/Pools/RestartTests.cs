using System.Net;
using System.Text.Json;

namespace Leasehold.Server.Tests.Pools;

/// <summary>Declarations, pool leases and history are state like any other: a restart on the same data directory keeps them.</summary>
public sealed class RestartTests : PoolTestBase
{
    protected override bool StartsAtOnce => false;

    [Fact]
    public async Task DeclarationsSurviveARestart()
    {
        await StartAsync();
        await DeclareAsync("/lab/a", """{"id":"a","os":"linux","tags":["5g"]}""");
        await DeclareAsync("/lab/b", """{"os":"win","version":1}""");
        await DeclareAsync("/lab/b", """{"os":"win","version":2}""");
        await DeclareAsync("/lab/c", """{"os":"mac"}""");
        using (var removed = await SendAsync(HttpMethod.Delete, "/v1/resources/lab/c"))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }
        var before = await GetJsonAsync("/v1/pools/lab/resources.json");

        await RestartAsync();

        AssertJsonEqual(before, await GetJsonAsync("/v1/pools/lab/resources.json"));
        AssertJsonEqual("""{"id":"a","os":"linux","tags":["5g"]}""", (await AttributesAsync("/lab/a"))!.Value);
        AssertJsonEqual("""{"os":"win","version":2}""", (await AttributesAsync("/lab/b"))!.Value);
        Assert.Null(await AttributesAsync("/lab/c"));
        Assert.Equal(["/lab/b"], Paths(await AcquireOkAsync("""{"pool":"/lab","require":{"version":2}}""")));
        await AcquireFailsAsync("""{"pool":"/lab","require":{"os":"mac"}}""", HttpStatusCode.UnprocessableEntity, "no-match");
    }

    [Fact]
    public async Task PoolLeasesAndHistorySurviveARestart()
    {
        await StartAsync();
        await DeclareAsync("/lab/1", """{"kind":"phone"}""");
        await DeclareAsync("/lab/2", """{"kind":"sim"}""");
        await DeclareAsync("/lab/3", """{"kind":"sim"}""");
        await ReleaseOkAsync(await AcquireOkAsync("""{"pool":"/lab","require":"kind=sim","owner":"earlier"}"""));
        var lease = await AcquireOkAsync("""{"groups":[{"pool":"/lab","require":{"kind":"phone"}},{"pool":"/lab","require":{"kind":"sim"}}],"owner":"keeper","ttl":600}""");
        var history = await GetJsonAsync("/v1/history");

        await RestartAsync();

        var read = await GetJsonAsync($"/v1/leases/{Id(lease)}");
        Assert.Equal(lease.GetProperty("fence").GetInt64(), read.GetProperty("fence").GetInt64());
        Assert.Equal(Paths(lease), Paths(read));
        Assert.Equal(Chosen(lease).Select(c => (c.Path, c.Group)), Chosen(read).Select(c => (c.Path, c.Group)));
        foreach (var (path, _, _) in Chosen(lease))
        {
            Assert.Equal([Id(lease)], await HolderIdsAsync(path));
        }
        AssertJsonEqual(history, await GetJsonAsync("/v1/history"));
        // The token still releases the lease, and its end joins the history kept across the restart.
        await ReleaseOkAsync(lease);
        Assert.Equal(["keeper", "earlier"], (await GetJsonAsync("/v1/history")).GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("owner").GetString()));
    }

    [Fact]
    public async Task AFilePoolRestartsWithItsHolderAndNothingToChange()
    {
        var file = WriteFile("resources.json", """[{"id": "a", "os": "linux"}, {"id": "b", "os": "win"}]""");
        await StartAsync("--pool", "/lab", "--resources", file);
        var holder = await AcquireOkAsync("""{"pool":"/lab","require":{"os":"win"},"owner":"H"}""");

        await RestartAsync();

        Assert.Equal([Id(holder)], await HolderIdsAsync("/lab/b"));
        using var response = await SendAsync(HttpMethod.Post, "/v1/pools/reload");
        var reply = await ReadJsonAsync(response, HttpStatusCode.OK);
        Assert.Equal(0, reply.GetProperty("declared").GetInt32() + reply.GetProperty("updated").GetInt32() + reply.GetProperty("removed").GetInt32());
        Assert.Equal(JsonValueKind.Array, reply.GetProperty("kept").ValueKind);
        Assert.Equal(["a", "b"], (await ResourceListAsync("/lab")).Keys.Order(StringComparer.Ordinal));
    }
}

using System.Net;
using System.Text.Json;

namespace Leasehold.Server.Tests.Pools;

/// <summary><c>POST /v1/pools/reload</c> on a server started with <c>--pool /lab --resources FILE</c>.</summary>
public sealed class ReloadTests : PoolTestBase
{
    private const string Before = """
        [
          {"id": "a", "os": "linux", "version": 1},
          {"id": "b", "os": "linux"},
          {"id": "c", "os": "win"},
          {"id": "d", "os": "mac"}
        ]
        """;

    private string _file = "";

    protected override bool StartsAtOnce => false;

    private async Task StartWithFileAsync(string contents)
    {
        _file = WriteFile("resources.json", contents);
        await StartAsync("--pool", "/lab", "--resources", _file);
    }

    private async Task<JsonElement> ReloadAsync()
    {
        using var response = await SendAsync(HttpMethod.Post, "/v1/pools/reload");
        return await ReadJsonAsync(response, HttpStatusCode.OK);
    }

    private static void AssertReload(JsonElement reply, int declared, int updated, int removed, params string[] kept)
    {
        Assert.Equal(["declared", "kept", "removed", "updated"], reply.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(declared, reply.GetProperty("declared").GetInt32());
        Assert.Equal(updated, reply.GetProperty("updated").GetInt32());
        Assert.Equal(removed, reply.GetProperty("removed").GetInt32());
        Assert.Equal(kept, reply.GetProperty("kept").EnumerateArray().Select(k => k.GetString()!));
    }

    [Fact]
    public async Task ReloadAppliesTheDifferenceAndKeepsAHeldResourceUntilItIsReleased()
    {
        await StartWithFileAsync(Before);
        var holder = await AcquireOkAsync("""{"pool":"/lab","require":{"os":"win"},"owner":"H","ttl":600}""");
        Assert.Equal(["/lab/c"], Paths(holder));

        // a changes, b (free) and c (held) are gone, d stays as it was, e is new.
        File.WriteAllText(_file, """
            [
              {"id": "a", "os": "linux", "version": 2},
              {"id": "d", "os": "mac"},
              {"id": "e", "os": "bsd"}
            ]
            """);
        AssertReload(await ReloadAsync(), declared: 1, updated: 1, removed: 1, "/lab/c");

        AssertJsonEqual("""{"id":"a","os":"linux","version":2}""", (await AttributesAsync("/lab/a"))!.Value);
        Assert.Null(await AttributesAsync("/lab/b"));
        AssertJsonEqual("""{"id":"c","os":"win"}""", (await AttributesAsync("/lab/c"))!.Value);
        AssertJsonEqual("""{"id":"d","os":"mac"}""", (await AttributesAsync("/lab/d"))!.Value);
        AssertJsonEqual("""{"id":"e","os":"bsd"}""", (await AttributesAsync("/lab/e"))!.Value);
        Assert.Equal(["a", "c", "d", "e"], (await ResourceListAsync("/lab")).Keys.Order(StringComparer.Ordinal));

        // The holder was not disturbed: same lease, same fence, its token still renews and releases it.
        Assert.Equal([Id(holder)], await HolderIdsAsync("/lab/c"));
        var read = await GetJsonAsync($"/v1/leases/{Id(holder)}");
        Assert.Equal(holder.GetProperty("fence").GetInt64(), read.GetProperty("fence").GetInt64());
        Assert.Equal(["/lab/c"], Paths(read));
        using (var renew = await SendAsync(HttpMethod.Post, $"/v1/leases/{Id(holder)}/renew", """{"ttl":900}""", holder.GetProperty("token").GetString()))
        {
            Assert.Equal(900, (await ReadJsonAsync(renew, HttpStatusCode.OK)).GetProperty("ttl").GetDouble());
        }

        // A reload while it is still held keeps it again; once released, the next reload removes it.
        AssertReload(await ReloadAsync(), declared: 0, updated: 0, removed: 0, "/lab/c");
        await ReleaseOkAsync(holder);
        AssertReload(await ReloadAsync(), declared: 0, updated: 0, removed: 1);
        Assert.Null(await AttributesAsync("/lab/c"));
        Assert.Equal(["a", "d", "e"], (await ResourceListAsync("/lab")).Keys.Order(StringComparer.Ordinal));
        AssertReload(await ReloadAsync(), declared: 0, updated: 0, removed: 0);
    }

    [Fact]
    public async Task AnInvalidFileChangesNothingAndSaysWhy()
    {
        await StartWithFileAsync(Before);
        var before = await ResourceListAsync("/lab");

        foreach (var (contents, message) in new[]
        {
            ("""[{"id": "a"}, {"id": "a"}]""", "Invalid json, duplicate ids in ['a']"),
            ("""[{"id": "a"}, {"os": "linux"}]""", "Invalid json, id property is missing"),
            ("""{"id": "a"}""", "invalid resources json file: "),
            ("""[{"id": "a",""", "invalid resources json file: "),
        })
        {
            File.WriteAllText(_file, contents);
            using var response = await SendAsync(HttpMethod.Post, "/v1/pools/reload");
            var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-argument");
            Assert.Contains(_file, Detail(problem), StringComparison.Ordinal);
            Assert.Contains(message, Detail(problem), StringComparison.Ordinal);
        }
        File.Delete(_file);
        using (var missing = await SendAsync(HttpMethod.Post, "/v1/pools/reload"))
        {
            await AssertProblemAsync(missing, HttpStatusCode.BadRequest, "invalid-argument");
        }

        var after = await ResourceListAsync("/lab");
        Assert.Equal(before.Keys.Order(StringComparer.Ordinal), after.Keys.Order(StringComparer.Ordinal));
        foreach (var (id, item) in before)
        {
            AssertJsonEqual(item, after[id]);
        }

        File.WriteAllText(_file, """[{"id": "a", "os": "linux", "version": 1}]""");
        AssertReload(await ReloadAsync(), declared: 0, updated: 0, removed: 3);
    }

    [Fact]
    public async Task TheFileOwnsItsPoolButNothingOutsideIt()
    {
        await StartWithFileAsync(Before);
        await DeclareAsync("/lab/extra", """{"os":"linux"}""");
        await DeclareAsync("/other/x", """{"os":"linux"}""");

        AssertReload(await ReloadAsync(), declared: 0, updated: 0, removed: 1);
        Assert.Null(await AttributesAsync("/lab/extra"));
        AssertJsonEqual("""{"os":"linux"}""", (await AttributesAsync("/other/x"))!.Value);
        // An attribute changed through the API is put back to the file's.
        await DeclareAsync("/lab/a", """{"id":"a","os":"changed"}""");
        AssertReload(await ReloadAsync(), declared: 0, updated: 1, removed: 0);
        AssertJsonEqual("""{"id":"a","os":"linux","version":1}""", (await AttributesAsync("/lab/a"))!.Value);
    }

    [Fact]
    public async Task AReloadThatAddsAMatchGrantsAWaiter()
    {
        await StartWithFileAsync(Before);
        var held = await AcquireOkAsync("""{"pool":"/lab","require":{"os":"mac"},"owner":"H"}""");
        var waiting = AcquireAsync("""{"pool":"/lab","require":{"os":"mac"},"owner":"W","wait":15}""", Server.CreateClient());
        await WaitForWaitersAsync(1);

        File.WriteAllText(_file, Before.Replace("]", """, {"id": "f", "os": "mac"}]""", StringComparison.Ordinal));
        AssertReload(await ReloadAsync(), declared: 1, updated: 0, removed: 0);
        using var response = await Bounded(waiting);
        var lease = await ReadJsonAsync(response, HttpStatusCode.Created);
        Assert.Equal(["/lab/f"], Paths(lease));
        Assert.Equal([Id(held)], await HolderIdsAsync("/lab/d"));
    }

    [Fact]
    public async Task AServerWithoutPoolsReloadsNothing()
    {
        await StartAsync();
        await DeclareAsync("/lab/a", "{}");
        AssertReload(await ReloadAsync(), declared: 0, updated: 0, removed: 0);
        Assert.NotNull(await AttributesAsync("/lab/a"));
    }
}

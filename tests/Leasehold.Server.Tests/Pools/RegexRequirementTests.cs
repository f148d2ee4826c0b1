using System.Net;

namespace Leasehold.Server.Tests.Pools;

/// <summary>
/// <c>$regex</c> requirements on the real server: matched in linear time (a pattern that backtracks
/// catastrophically still gets its answer), refused at request time when they need backtracking, and the
/// resources they chose are the ones a restart gives back, since the log carries the choices.
/// </summary>
public sealed class RegexRequirementTests : PoolTestBase
{
    private const string Catastrophic = """{"name":{"$regex":"^(a+)+$|b$"}}""";

    protected override bool StartsAtOnce => false;

    [Fact]
    public async Task RegexLeasesKeepTheirResourcesAcrossARestart()
    {
        await StartAsync();
        var name = new string('a', 30) + "b";
        foreach (var id in new[] { "a", "b", "c", "d" })
        {
            await DeclareAsync("/d/" + id, $$"""{"name":"{{name}}"}""");
        }
        await DeclareAsync("/d/e", """{"name":"cpu-1"}""");

        // (a+)+ against "aaa…ab" used to run out of its time budget and count as no match: 422 no-match.
        var first = await AcquireOkAsync($$"""{"pool":"/d","require":{{Catastrophic}},"count":2,"owner":"A"}""");
        Assert.Equal(["/d/a", "/d/b"], Paths(first));
        // Granted by push when A releases: the choice is logged with the release.
        var waiting = AcquireAsync($$"""{"pool":"/d","require":{{Catastrophic}},"count":3,"owner":"B","wait":15}""", Server.CreateClient());
        await WaitForWaitersAsync(1);
        await ReleaseOkAsync(first);
        using var response = await Bounded(waiting);
        var pushed = await ReadJsonAsync(response, HttpStatusCode.Created);
        var last = await AcquireOkAsync($$"""{"pool":"/d","require":{{Catastrophic}},"owner":"C"}""");
        var other = await AcquireOkAsync("""{"pool":"/d","require":{"name":{"$not":{"$regex":"^a"}}},"owner":"D"}""");
        Assert.Equal(["/d/e"], Paths(other));
        Assert.Equal(4, Paths(pushed).Concat(Paths(last)).Distinct().Count());

        await RestartAsync();

        foreach (var lease in new[] { pushed, last, other })
        {
            var read = await GetJsonAsync($"/v1/leases/{Id(lease)}");
            Assert.Equal(lease.GetProperty("fence").GetInt64(), read.GetProperty("fence").GetInt64());
            Assert.Equal(Paths(lease), Paths(read));
            foreach (var path in Paths(lease))
            {
                Assert.Equal([Id(lease)], await HolderIdsAsync(path));
            }
        }
        await AcquireFailsAsync($$"""{"pool":"/d","require":{{Catastrophic}}}""", HttpStatusCode.Conflict, "locked");
    }

    [Theory]
    [InlineData("a(?=b)", "lookahead")]
    [InlineData("(a)\\\\1", "backreference")]
    [InlineData("(?>a+)", "atomic")]
    public async Task PatternsNeedingBacktrackingAreAnInvalidQuery(string pattern, string construct)
    {
        await StartAsync();
        await DeclareAsync("/d/a", """{"name":"ab"}""");
        var problem = await AcquireFailsAsync("""{"pool":"/d","require":{"name":{"$regex":""" + "\"" + pattern + "\"}}}", HttpStatusCode.BadRequest, "invalid-query");
        Assert.Contains("is not supported (patterns match in linear time", Detail(problem), StringComparison.Ordinal);
        Assert.Contains(construct, Detail(problem), StringComparison.Ordinal);
        Assert.Empty(await HolderIdsAsync("/d/a"));
    }
}

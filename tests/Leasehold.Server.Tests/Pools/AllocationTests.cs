using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Leasehold.Server.Tests.Pools;

/// <summary><c>POST /v1/leases</c> with a pool: choosing by requirement, counts, groups, no-match against locked, and bad requests.</summary>
public sealed class AllocationTests : PoolTestBase
{
    private static readonly string[] ChosenFields = ["attributes", "group", "path"];

    [Fact]
    public async Task AnObjectRequirementChoosesAMatchingResourceAndTheLeaseShowsIt()
    {
        await DeclareAsync("/lab/a", """{"id":"a","os":"linux"}""");
        await DeclareAsync("/lab/b", """{"id":"b","os":"windows","online":true}""");
        await DeclareAsync("/elsewhere/c", """{"id":"c","os":"windows"}""");

        using var response = await AcquireAsync("""{"pool":"/lab","require":{"os":"windows"},"owner":"job-1","ttl":60}""");
        var lease = await ReadJsonAsync(response, HttpStatusCode.Created);

        Assert.Equal(["/lab/b"], Paths(lease));
        Assert.Matches("^[0-9a-f]{32}$", lease.GetProperty("token").GetString());
        Assert.Equal("job-1", lease.GetProperty("owner").GetString());
        Assert.Equal("exclusive", lease.GetProperty("mode").GetString());
        Assert.Equal(60, lease.GetProperty("ttl").GetDouble());
        var resource = Assert.Single(lease.GetProperty("resources").EnumerateArray());
        Assert.Equal(ChosenFields, resource.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("/lab/b", resource.GetProperty("path").GetString());
        Assert.Equal(0, resource.GetProperty("group").GetInt32());
        AssertJsonEqual("""{"id":"b","os":"windows","online":true}""", resource.GetProperty("attributes"));

        Assert.Equal([Id(lease)], await HolderIdsAsync("/lab/b"));
        Assert.Empty(await HolderIdsAsync("/lab/a"));
        Assert.Empty(await HolderIdsAsync("/elsewhere/c"));
        // The lease read back without its token still lists its resources.
        var read = await GetJsonAsync($"/v1/leases/{Id(lease)}");
        Assert.False(read.TryGetProperty("token", out _));
        Assert.Equal("/lab/b", Chosen(read).Single().Path);
    }

    [Fact]
    public async Task AnOrdinaryLeaseHasNoResourcesField()
    {
        var lease = await AcquireOkAsync("""{"path":"/plain"}""");
        Assert.False(lease.TryGetProperty("resources", out _));
    }

    [Fact]
    public async Task ShorthandValuesStayStrings()
    {
        await DeclareAsync("/lab/number", """{"n":1}""");
        await DeclareAsync("/lab/string", """{"n":"1"}""");

        // n=1 is the string "1", as in py-lockable: only /lab/string can match...
        var first = await AcquireOkAsync("""{"pool":"/lab","require":"n=1"}""");
        Assert.Equal(["/lab/string"], Paths(first));
        // ...so with it held the same request is locked (never given the number), while {"n": 1} takes the number.
        await AcquireFailsAsync("""{"pool":"/lab","require":"n=1"}""", HttpStatusCode.Conflict, "locked");
        var second = await AcquireOkAsync("""{"pool":"/lab","require":{"n":1}}""");
        Assert.Equal(["/lab/number"], Paths(second));
        var problem = await AcquireFailsAsync("""{"pool":"/lab","require":"n=2"}""", HttpStatusCode.UnprocessableEntity, "no-match");
        Assert.Contains("\"n\":\"2\"", Detail(problem), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShorthandTrueAndFalseAreBooleansAndDottedKeysNest()
    {
        await DeclareAsync("/lab/x", """{"online":true,"location":{"rack":"2","row":"a"}}""");
        await DeclareAsync("/lab/y", """{"online":"true","location":{"rack":"2"}}""");
        await DeclareAsync("/lab/z", """{"online":true,"location":{"rack":2}}""");

        var lease = await AcquireOkAsync("""{"pool":"/lab","require":"online=TRUE&location.rack=2"}""");
        Assert.Equal(["/lab/x"], Paths(lease));
        await AcquireFailsAsync("""{"pool":"/lab","require":"online=true&location.rack=2"}""", HttpStatusCode.Conflict, "locked");
        await AcquireFailsAsync("""{"pool":"/lab","require":"online=false"}""", HttpStatusCode.UnprocessableEntity, "no-match");
    }

    [Fact]
    public async Task OperatorsAndTheEmptyRequirementWork()
    {
        await DeclareAsync("/lab/small", """{"cores":2,"tags":["gpu"]}""");
        await DeclareAsync("/lab/big", """{"cores":16,"tags":["gpu","5g"]}""");
        await DeclareAsync("/lab/none", """{"cores":8}""");

        Assert.Equal(["/lab/big"], Paths(await AcquireOkAsync("""{"pool":"/lab","require":{"cores":{"$gte":8},"tags":"gpu"}}""")));
        Assert.Equal(["/lab/small"], Paths(await AcquireOkAsync("""{"pool":"/lab","require":{"tags":{"$exists":true}}}""")));
        // No requirement (absent, null, "" or {}) matches any declared resource.
        Assert.Equal(["/lab/none"], Paths(await AcquireOkAsync("""{"pool":"/lab","require":null}""")));
        await AcquireFailsAsync("""{"pool":"/lab"}""", HttpStatusCode.Conflict, "locked");
        await AcquireFailsAsync("""{"pool":"/lab","require":""}""", HttpStatusCode.Conflict, "locked");
    }

    [Fact]
    public async Task CountTakesThatManyDistinctResources()
    {
        foreach (var name in new[] { "1", "2", "3" })
        {
            await DeclareAsync("/lab/" + name, """{"os":"linux"}""");
        }
        var two = await AcquireOkAsync("""{"pool":"/lab","require":{"os":"linux"},"count":2}""");
        var paths = Paths(two);
        Assert.Equal(2, paths.Distinct().Count());
        Assert.All(Chosen(two), c => Assert.Equal(0, c.Group));
        Assert.Equal(paths, Chosen(two).Select(c => c.Path));

        // Three match, one is free: a request for two is locked, not no-match; one for four could never be granted.
        await AcquireFailsAsync("""{"pool":"/lab","require":{"os":"linux"},"count":2}""", HttpStatusCode.Conflict, "locked");
        var problem = await AcquireFailsAsync("""{"pool":"/lab","require":{"os":"linux"},"count":4}""", HttpStatusCode.UnprocessableEntity, "no-match");
        Assert.Contains("3 declared resource(s) under /lab", Detail(problem), StringComparison.Ordinal);
        Assert.Contains("needs 4", Detail(problem), StringComparison.Ordinal);
        var last = await AcquireOkAsync("""{"pool":"/lab","require":{"os":"linux"}}""");
        Assert.DoesNotContain(Paths(last).Single(), paths);
    }

    [Fact]
    public async Task GroupsAreAllocatedTogetherEachFromItsOwnMatches()
    {
        await DeclareAsync("/lab/phone-1", """{"kind":"phone"}""");
        await DeclareAsync("/lab/sim-1", """{"kind":"sim"}""");
        await DeclareAsync("/lab/sim-2", """{"kind":"sim"}""");
        await DeclareAsync("/lab/sim-3", """{"kind":"sim"}""");
        await DeclareAsync("/other/sim-9", """{"kind":"sim"}""");

        var lease = await AcquireOkAsync("""{"groups":[{"pool":"/lab","require":{"kind":"sim"},"count":2},{"pool":"/lab","require":"kind=phone"}],"owner":"g"}""");
        var chosen = Chosen(lease);
        Assert.Equal(3, chosen.Length);
        Assert.Equal(3, chosen.Select(c => c.Path).Distinct().Count());
        Assert.Equal(chosen.Select(c => c.Path).Order(StringComparer.Ordinal), Paths(lease).Order(StringComparer.Ordinal));
        // Each resource matches the group it was chosen for (py-lockable's lock_many does not check this).
        Assert.Equal(2, chosen.Count(c => c.Group == 0));
        Assert.All(chosen.Where(c => c.Group == 0), c => Assert.Equal("sim", c.Attributes.GetProperty("kind").GetString()));
        Assert.Equal("/lab/phone-1", Assert.Single(chosen, c => c.Group == 1).Path);
        Assert.All(chosen, c => Assert.StartsWith("/lab/", c.Path, StringComparison.Ordinal));
    }

    [Fact]
    public async Task GroupsInDifferentPoolsAreAllocatedTogether()
    {
        await DeclareAsync("/lab/phone-1", """{"kind":"phone"}""");
        await DeclareAsync("/ids/acct-1", """{"id":"acct-1"}""");
        var lease = await AcquireOkAsync("""{"groups":[{"pool":"/lab"},{"pool":"/ids","require":{"id":"acct-1"}}]}""");
        Assert.Equal([("/lab/phone-1", 0), ("/ids/acct-1", 1)], Chosen(lease).Select(c => (c.Path, c.Group)));
    }

    [Fact]
    public async Task GroupsAreAllOrNothing()
    {
        await DeclareAsync("/lab/phone-1", """{"kind":"phone"}""");
        await DeclareAsync("/lab/sim-1", """{"kind":"sim"}""");
        await DeclareAsync("/lab/sim-2", """{"kind":"sim"}""");
        var sim = await AcquireOkAsync("""{"path":"/lab/sim-1"}""");

        const string request = """{"groups":[{"pool":"/lab","require":{"kind":"phone"}},{"pool":"/lab","require":{"kind":"sim"},"count":2}]}""";
        var problem = await AcquireFailsAsync(request, HttpStatusCode.Conflict, "locked");
        Assert.Contains("held", Detail(problem), StringComparison.Ordinal);
        // Nothing was taken for the group that could have been served.
        Assert.Empty(await HolderIdsAsync("/lab/phone-1"));
        Assert.Empty(await HolderIdsAsync("/lab/sim-2"));
        Assert.Equal(1, (await StatsAsync()).GetProperty("leases").GetInt32());

        await ReleaseOkAsync(sim);
        Assert.Equal(3, Chosen(await AcquireOkAsync(request)).Length);
    }

    [Fact]
    public async Task NoMatchIsAnsweredAtOnceEvenWithAWait()
    {
        await DeclareAsync("/lab/a", """{"os":"linux"}""");
        var clock = Stopwatch.StartNew();
        var problem = await AcquireFailsAsync("""{"pool":"/lab","require":{"os":"beos"},"wait":30}""", HttpStatusCode.UnprocessableEntity, "no-match");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"no-match took {clock.Elapsed}");
        Assert.Contains("0 declared resource(s) under /lab", Detail(problem), StringComparison.Ordinal);
        Assert.Contains("beos", Detail(problem), StringComparison.Ordinal);

        // A pool with nothing declared, and a group request where only one group can never match.
        await AcquireFailsAsync("""{"pool":"/empty","wait":30}""", HttpStatusCode.UnprocessableEntity, "no-match");
        await AcquireFailsAsync("""{"groups":[{"pool":"/lab"},{"pool":"/lab","require":{"os":"beos"}}],"wait":30}""", HttpStatusCode.UnprocessableEntity, "no-match");
        var stats = await StatsAsync();
        Assert.Equal(0, stats.GetProperty("waiters").GetInt32());
        Assert.Equal(0, stats.GetProperty("leases").GetInt32());
    }

    [Fact]
    public async Task LockedWhenEveryMatchIsHeld()
    {
        await DeclareAsync("/lab/a", """{"os":"linux"}""");
        await DeclareAsync("/lab/b", """{"os":"win"}""");
        var held = await AcquireOkAsync("""{"pool":"/lab","require":{"os":"linux"}}""");

        var problem = await AcquireFailsAsync("""{"pool":"/lab","require":{"os":"linux"}}""", HttpStatusCode.Conflict, "locked");
        Assert.Contains("held", Detail(problem), StringComparison.Ordinal);

        var clock = Stopwatch.StartNew();
        await AcquireFailsAsync("""{"pool":"/lab","require":{"os":"linux"},"wait":0.3}""", HttpStatusCode.Conflict, "locked");
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(290), $"answered after {clock.Elapsed.TotalMilliseconds} ms, before the wait ran out");
        Assert.Equal(0, (await StatsAsync()).GetProperty("waiters").GetInt32());
        Assert.Equal([Id(held)], await HolderIdsAsync("/lab/a"));
    }

    [Fact]
    public async Task PathLocksAndPoolLeasesExcludeEachOther()
    {
        await DeclareAsync("/lab/a", """{"os":"linux"}""");
        // A lock on the pool's path covers every resource under it.
        var whole = await AcquireOkAsync("""{"path":"/lab"}""");
        await AcquireFailsAsync("""{"pool":"/lab"}""", HttpStatusCode.Conflict, "locked");
        await ReleaseOkAsync(whole);

        var pooled = await AcquireOkAsync("""{"pool":"/lab"}""");
        await AcquireFailsAsync("""{"path":"/lab/a"}""", HttpStatusCode.Conflict, "locked");
        await AcquireFailsAsync("""{"path":"/lab"}""", HttpStatusCode.Conflict, "locked");
        await ReleaseOkAsync(pooled);
        await AcquireOkAsync("""{"path":"/lab/a"}""");
    }

    [Fact]
    public async Task TheLeastRecentlyReleasedResourceIsChosenFirst()
    {
        await DeclareAsync("/lab/a", "{}");
        await DeclareAsync("/lab/b", "{}");
        await DeclareAsync("/lab/c", "{}");
        // Never held: by path.
        var first = await AcquireOkAsync("""{"pool":"/lab"}""");
        Assert.Equal(["/lab/a"], Paths(first));
        await ReleaseOkAsync(first);
        var second = await AcquireOkAsync("""{"pool":"/lab"}""");
        Assert.Equal(["/lab/b"], Paths(second));
        await ReleaseOkAsync(second);
        Assert.Equal(["/lab/c"], Paths(await AcquireOkAsync("""{"pool":"/lab"}""")));
        Assert.Equal(["/lab/a"], Paths(await AcquireOkAsync("""{"pool":"/lab"}""")));
    }

    public static TheoryData<string, int, string, string?> BadRequests => new()
    {
        // A requirement of the wrong type, or one that does not compile, is invalid-query.
        { """{"pool":"/lab","require":5}""", 400, "invalid-query", "query object" },
        { """{"pool":"/lab","require":[{"os":"linux"}]}""", 400, "invalid-query", "query object" },
        { """{"pool":"/lab","require":true}""", 400, "invalid-query", "query object" },
        { """{"pool":"/lab","require":{"os":{"$foo":1}}}""", 400, "invalid-query", "$foo" },
        { """{"pool":"/nothing-declared","require":{"$bogus":[]}}""", 400, "invalid-query", "$bogus" },
        { """{"groups":[{"pool":"/lab","require":{"os":{"$near":1}}}]}""", 400, "invalid-query", "$near" },
        { """{"pool":"/lab","require":{"$where":"true"}}""", 400, "invalid-query", "$where" },
        { """{"pool":"/lab","require":"a="}""", 400, "invalid-query", "Missing value (a=)" },
        { """{"pool":"/lab","require":"{\"os\":"}""", 400, "invalid-query", null },
        { """{"pool":"/lab","require":".a=1"}""", 400, "invalid-query", "Invalid key format" },
        // Counts, groups and the pool's path.
        { """{"pool":"/lab","count":0}""", 400, "invalid-argument", "count" },
        { """{"pool":"/lab","count":-1}""", 400, "invalid-argument", "count" },
        { """{"pool":"/lab","count":1001}""", 400, "invalid-argument", "count" },
        { """{"groups":[{"pool":"/lab"},{"pool":"/lab","count":0}]}""", 400, "invalid-argument", "count" },
        { """{"groups":[]}""", 400, "invalid-argument", "groups" },
        { """{"pool":"lab"}""", 400, "invalid-path", "lab" },
        { """{"pool":"/lab//x"}""", 400, "invalid-path", null },
        { """{"pool":""}""", 400, "invalid-path", null },
        { """{"groups":[{"require":{"os":"linux"}}]}""", 400, "invalid-path", null },
        // Mixing the forms.
        { """{"pool":"/lab","path":"/lab/a"}""", 400, "invalid-argument", "not both" },
        { """{"pool":"/lab","paths":["/lab/a"]}""", 400, "invalid-argument", "not both" },
        { """{"groups":[{"pool":"/lab"}],"pool":"/lab"}""", 400, "invalid-argument", "not both" },
        { """{"groups":[{"pool":"/lab"}],"require":"os=linux"}""", 400, "invalid-argument", "not both" },
        { """{"groups":[{"pool":"/lab"}],"count":2}""", 400, "invalid-argument", "not both" },
        { """{"pool":"/lab","mode":"shared"}""", 400, "invalid-argument", "exclusively" },
        { """{"pool":"/lab","limit":2}""", 400, "invalid-argument", "exclusively" },
        // Wrong JSON types are the body's fault.
        { """{"pool":"/lab","count":"2"}""", 400, "invalid-json", "count" },
        { """{"pool":"/lab","reuse":"yes"}""", 400, "invalid-json", "reuse" },
        { """{"pool":["/lab"]}""", 400, "invalid-json", "pool" },
        { """{"groups":[{"pool":"/lab","size":1}]}""", 400, "invalid-json", "size" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadPoolRequestsAreRefusedAndChangeNothing(string body, int status, string code, string? inDetail)
    {
        await DeclareAsync("/lab/a", """{"os":"linux"}""");
        var problem = await AcquireFailsAsync(body, (HttpStatusCode)status, code);
        if (inDetail is not null)
        {
            Assert.Contains(inDetail, Detail(problem), StringComparison.Ordinal);
        }
        var stats = await StatsAsync();
        Assert.Equal(0, stats.GetProperty("leases").GetInt32());
        Assert.Equal(0, stats.GetProperty("waiters").GetInt32());
        // The resource is still free for a good request.
        Assert.Equal(["/lab/a"], Paths(await AcquireOkAsync("""{"pool":"/lab"}""")));
    }

    [Fact]
    public async Task TheNoMatchDetailShowsTheRequirementItWasGiven()
    {
        var problem = await AcquireFailsAsync("""{"pool":"/lab","require":"os=linux&loc.rack=2"}""", HttpStatusCode.UnprocessableEntity, "no-match");
        // The shorthand as the query object it became: strings, nested.
        var detail = Detail(problem);
        var start = detail.IndexOf('{', StringComparison.Ordinal);
        var end = detail.LastIndexOf('}');
        Assert.True(start >= 0 && end > start, detail);
        AssertJsonEqual("""{"os":"linux","loc":{"rack":"2"}}""", Parse(detail[start..(end + 1)]));
        Assert.Equal(JsonValueKind.String, problem.GetProperty("detail").ValueKind);
    }
}

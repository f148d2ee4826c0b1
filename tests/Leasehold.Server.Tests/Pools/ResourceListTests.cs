using System.Net;
using System.Text.Json;

namespace Leasehold.Server.Tests.Pools;

/// <summary><c>GET /v1/pools/{pool}/resources.json</c>: a pool as py-lockable's HTTP provider reads it.</summary>
public sealed class ResourceListTests : PoolTestBase
{
    /// <summary>A py-lockable resources.json: string and number ids, the conventional fields, nested values.</summary>
    internal const string LabFile = """
        [
          {"id": "1", "hostname": "rack1", "online": true, "os": "android", "tags": ["5g", "nfc"]},
          {"id": "2", "hostname": "rack1", "online": false, "os": "ios", "location": {"rack": 2, "slot": "b"}},
          {"id": 3, "hostname": "rack2", "online": true, "os": "android", "n": 1.5, "note": null}
        ]
        """;

    /// <summary>
    /// What py-lockable's HTTP provider does with the URL, in the standard library: one GET with its
    /// User-Agent, then its checks (a list; every id present, not null, unique). Prints the list on success.
    /// </summary>
    private const string ProviderScript = """
        import json
        import sys
        import urllib.error
        import urllib.request
        from collections import Counter

        url = sys.argv[1]
        request = urllib.request.Request(url, headers={"User-Agent": "py-lockable/v0"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=20) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            sys.exit(f"ProviderError: {error.reason}")
        except urllib.error.URLError as error:
            sys.exit(f"ProviderError: {error.reason}")
        try:
            data = json.loads(body)
        except ValueError as error:
            sys.exit(f"ProviderError: the body is not JSON: {error}")
        if not isinstance(data, list):
            sys.exit("AssertionError: resources_list is not an list")
        for item in data:
            if not isinstance(item, dict):
                sys.exit(f"resource is not an object: {item!r}")
        counts = Counter([item.get("id") for item in data])
        if [name for name in counts if name is None]:
            sys.exit("ValueError: Invalid json, id property is missing")
        duplicates = [name for name, count in counts.items() if count > 1]
        if duplicates:
            sys.exit(f"ValueError: Invalid json, duplicate ids in {duplicates}")
        json.dump(data, sys.stdout)
        """;

    protected override bool StartsAtOnce => false;

    [Fact]
    public async Task TheListIsTheDeclaredPoolWithAnIdForEachResource()
    {
        await StartAsync();
        await DeclareAsync("/lab/a", """{"id":"a","os":"linux"}""");
        await DeclareAsync("/lab/b", """{"os":"win","online":true}""");
        await DeclareAsync("/lab/7", """{"id":7}""");
        await DeclareAsync("/lab/empty", "{}");
        await DeclareAsync("/elsewhere/c", """{"id":"c"}""");

        using var response = await GetAsync("/v1/pools/lab/resources.json");
        var list = await ReadJsonAsync(response, HttpStatusCode.OK);
        var byId = ById(list);
        Assert.Equal(["7", "a", "b", "empty"], byId.Keys.Order(StringComparer.Ordinal));
        // As declared; an object without an id gets its last path segment.
        AssertJsonEqual("""{"id":"a","os":"linux"}""", byId["a"]);
        AssertJsonEqual("""{"id":7}""", byId["7"]);
        Assert.Equal(JsonValueKind.Number, byId["7"].GetProperty("id").ValueKind);
        AssertJsonEqual("""{"id":"b","os":"win","online":true}""", byId["b"]);
        AssertJsonEqual("""{"id":"empty"}""", byId["empty"]);
    }

    [Fact]
    public async Task ANullIdIsFilledInLikeAMissingOne()
    {
        // py-lockable reads a null id as a missing one and refuses the whole list; the server fills it in.
        await StartAsync();
        await DeclareAsync("/lab/n", """{"os":"linux","id":null,"tags":["x"]}""");
        await DeclareAsync("/lab/m", """{"id":"m"}""");

        var list = await GetJsonAsync("/v1/pools/lab/resources.json");
        var item = list.EnumerateArray().Single(r => r.TryGetProperty("os", out _));
        Assert.Equal(["id", "os", "tags"], item.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        AssertJsonEqual("""{"id":"n","os":"linux","tags":["x"]}""", item);
        // The declared attributes themselves are as given.
        AssertJsonEqual("""{"os":"linux","id":null,"tags":["x"]}""", (await AttributesAsync("/lab/n"))!.Value);

        var result = await RunProviderAsync("/v1/pools/lab/resources.json");
        Assert.True(result.ExitCode == 0, $"the provider refused the list: {result}");
        Assert.Equal(["m", "n"], ById(Parse(result.Stdout)).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task TheListFollowsDeclarationsAndRemovals()
    {
        await StartAsync();
        await DeclareAsync("/lab/a", """{"v":1}""");
        await DeclareAsync("/lab/b", """{"v":1}""");
        await DeclareAsync("/lab/a", """{"v":2}""");
        using (var removed = await SendAsync(HttpMethod.Delete, "/v1/resources/lab/b"))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }
        var list = await ResourceListAsync("/lab");
        AssertJsonEqual("""{"id":"a","v":2}""", Assert.Single(list).Value);
    }

    [Fact]
    public async Task AnUnknownPoolIsNotFoundNotAnEmptyList()
    {
        await StartAsync();
        await DeclareAsync("/lab/a", """{"os":"linux"}""");

        // A mistyped pool must not read as "no resource matches" to py-lockable.
        using var response = await GetAsync("/v1/pools/lba/resources.json");
        var problem = await AssertProblemAsync(response, HttpStatusCode.NotFound, "not-found");
        Assert.Contains("no pool /lba", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var result = await RunProviderAsync("/v1/pools/lba/resources.json");
        Assert.NotEqual(0, result.ExitCode);

        // Known: a resource declared at or under the pool's path (the root pool holds them all).
        Assert.Single(await ResourceListAsync("/lab"));
        Assert.Equal(1, (await GetJsonAsync("/v1/pools/resources.json")).GetArrayLength());
        // Once the last one is removed, nothing says the pool was meant to exist.
        using (var removed = await SendAsync(HttpMethod.Delete, "/v1/resources/lab/a"))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }
        using var gone = await GetAsync("/v1/pools/lab/resources.json");
        await AssertProblemAsync(gone, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task AConfiguredPoolWithNoResourcesIsAnEmptyList()
    {
        var file = WriteFile("resources.json", "[]");
        await StartAsync("--pool", "/empty", "--resources", file);

        using var response = await GetAsync("/v1/pools/empty/resources.json");
        var list = await ReadJsonAsync(response, HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Array, list.ValueKind);
        Assert.Equal(0, list.GetArrayLength());
        using var other = await GetAsync("/v1/pools/empty/below/resources.json");
        await AssertProblemAsync(other, HttpStatusCode.NotFound, "not-found");
    }

    [Theory]
    [InlineData("GET", "/v1/pools/lab", 404, "not-found")]
    [InlineData("GET", "/v1/pools/lab/resources.yaml", 404, "not-found")]
    [InlineData("GET", "/v1/pools/reload", 404, "not-found")]
    [InlineData("GET", "/v1/pools/a//b/resources.json", 400, "invalid-path")]
    [InlineData("POST", "/v1/pools/lab/resources.json", 405, "method-not-allowed")]
    [InlineData("PUT", "/v1/pools/lab/resources.json", 405, "method-not-allowed")]
    public async Task OtherPoolRoutesAreProblems(string method, string url, int status, string code)
    {
        await StartAsync();
        using var response = await SendAsync(new HttpMethod(method), url);
        await AssertProblemAsync(response, (HttpStatusCode)status, code);
    }

    [Fact]
    public async Task TheListEqualsTheFileLoadedAtStartUp()
    {
        var file = WriteFile("resources.json", LabFile);
        await StartAsync("--pool", "/lab", "--resources", file);

        var expected = ById(Parse(LabFile));
        var served = await ResourceListAsync("/lab");
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), served.Keys.Order(StringComparer.Ordinal));
        foreach (var (id, item) in expected)
        {
            AssertJsonEqual(item, served[id]);
            // Each object is a resource at the pool's path plus its id, with the object as its attributes.
            AssertJsonEqual(item, (await AttributesAsync("/lab/" + id))!.Value);
        }
        Assert.Equal(JsonValueKind.Number, served["3"].GetProperty("id").ValueKind);
    }

    [Fact]
    public async Task APyLockableStyleHttpProviderReadsThePool()
    {
        var file = WriteFile("resources.json", LabFile);
        await StartAsync("--pool", "/lab", "--resources", file);
        // A resource declared through the API without an id joins the list with one.
        await DeclareAsync("/lab/phone-9", """{"hostname":"rack3","online":true,"os":"android"}""");

        var result = await RunProviderAsync("/v1/pools/lab/resources.json");

        Assert.True(result.ExitCode == 0, $"the provider refused the list: {result}");
        var read = ById(Parse(result.Stdout));
        var expected = ById(Parse(LabFile));
        expected["phone-9"] = Parse("""{"id":"phone-9","hostname":"rack3","online":true,"os":"android"}""");
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), read.Keys.Order(StringComparer.Ordinal));
        foreach (var (id, item) in expected)
        {
            AssertJsonEqual(item, read[id]);
        }
    }

    [Fact]
    public async Task ThePyLockableStyleProviderCanFail()
    {
        // The script's checks are real: a route that is not a list fails it, as it would fail py-lockable.
        await StartAsync();
        var notAList = await RunProviderAsync("/v1/stats");
        Assert.NotEqual(0, notAList.ExitCode);
        Assert.Contains("resources_list is not an list", notAList.Stderr, StringComparison.Ordinal);
        var notFound = await RunProviderAsync("/v1/pools/lab");
        Assert.NotEqual(0, notFound.ExitCode);
        Assert.Contains("ProviderError", notFound.Stderr, StringComparison.Ordinal);
    }

    private async Task<ProcessResult> RunProviderAsync(string route)
    {
        var script = WriteFile("provider.py", ProviderScript);
        var url = new Uri(Server.BaseAddress, route).ToString();
        return await ChildProcess.RunAsync("python3", [script, url], WorkDir);
    }
}

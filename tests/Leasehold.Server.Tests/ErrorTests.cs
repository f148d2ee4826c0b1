using System.Net;
using System.Text;

namespace Leasehold.Server.Tests;

/// <summary>
/// Every code of the problem catalogue, reached over HTTP, with its status, problem+json and <c>code</c>.
/// Each test first takes a lease on <c>/guard</c> and checks afterwards that the server still answers
/// and that lease is untouched: an error changes nothing.
/// </summary>
public sealed class ErrorTests : ServerTestBase
{
    private const string GuardBody = """{"path":"/guard","ttl":600}""";
    private const string OtherToken = "0123456789abcdef0123456789abcdef";

    private Task<Held> GuardAsync() => AcquireOkAsync(GuardBody);

    private Task AssertGuardIntactAsync(Held guard) => AssertStillHeldAsync(guard, "/guard");

    [Fact]
    public async Task LockedListsTheHolders()
    {
        var guard = await GuardAsync();
        var child = await AcquireOkAsync("""{"path":"/p/c"}""");

        using var same = await AcquireAsync("""{"path":"/guard"}""");
        var problem = await AssertProblemAsync(same, HttpStatusCode.Conflict, "locked");
        Assert.Equal([guard.Id], HolderIds(problem));
        Assert.False(problem.GetProperty("holders")[0].TryGetProperty("token", out _));
        Assert.Equal("/guard", problem.GetProperty("holders")[0].GetProperty("paths")[0].GetString());

        // The parent of a held path, with both holders named when the request covers both.
        using var parent = await AcquireAsync("""{"paths":["/p","/guard/x"]}""");
        var both = await AssertProblemAsync(parent, HttpStatusCode.Conflict, "locked");
        Assert.Equal([guard.Id, child.Id], HolderIds(both).Order());

        await AssertGuardIntactAsync(guard);
        Assert.Empty(HolderIds(await GetResourceAsync("/p")));
    }

    [Fact]
    public async Task LockedByAnEarlierWaiterOnlyListsNoHolders()
    {
        var guard = await GuardAsync();
        await AcquireOkAsync("""{"path":"/q/x"}""");
        var waiter = AcquireAsync("""{"path":"/q","wait":30}""", Server.CreateClient());
        await WaitForQueueAsync("/q", 1);

        // /q/y is free of holders, but the queued claim on /q (which locks its children) is older.
        using var response = await AcquireAsync("""{"path":"/q/y"}""");
        var problem = await AssertProblemAsync(response, HttpStatusCode.Conflict, "locked");
        Assert.Empty(HolderIds(problem));
        Assert.False(waiter.IsCompleted);
        await AssertGuardIntactAsync(guard);
    }

    [Fact]
    public async Task LimitMismatchIsImmediate()
    {
        var guard = await GuardAsync();
        await AcquireOkAsync("""{"path":"/sem","limit":2}""");
        using var response = await AcquireAsync("""{"path":"/sem","limit":3,"wait":30}""");
        var problem = await AssertProblemAsync(response, HttpStatusCode.Conflict, "limit-mismatch");
        Assert.Contains("2", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await GetResourceAsync("/sem")).GetProperty("queue").GetArrayLength());
        await AcquireOkAsync("""{"path":"/sem","limit":2}""");
        await AssertGuardIntactAsync(guard);
    }

    [Fact]
    public async Task LimitMismatchForAWaiterWhenTheHoldersLimitDiffers()
    {
        var guard = await GuardAsync();
        var parent = await AcquireOkAsync("""{"path":"/p"}""");
        var two = AcquireAsync("""{"path":"/p/x","limit":2,"wait":10}""", Server.CreateClient());
        await WaitForQueueAsync("/p/x", 1);
        var three = AcquireAsync("""{"path":"/p/x","limit":3,"wait":10}""", Server.CreateClient());
        await WaitForQueueAsync("/p/x", 2);

        await ReleaseOkAsync(parent);
        using var granted = await Bounded(two);
        Assert.Equal(2, (await ReadJsonAsync(granted, HttpStatusCode.Created)).GetProperty("limit").GetInt32());
        using var refused = await Bounded(three);
        await AssertProblemAsync(refused, HttpStatusCode.Conflict, "limit-mismatch");
        Assert.Equal(0, (await GetResourceAsync("/p/x")).GetProperty("queue").GetArrayLength());
        await AssertGuardIntactAsync(guard);
    }

    [Theory]
    [InlineData("GET", "/v1/leases/999999")]
    [InlineData("GET", "/v1/leases/not-a-number")]
    [InlineData("GET", "/v2/leases")]
    [InlineData("GET", "/nothing")]
    [InlineData("POST", "/v1/leases/1/unknown")]
    public async Task NotFoundForUnknownLeasesAndRoutes(string method, string url)
    {
        var guard = await GuardAsync();
        using var response = await SendAsync(new HttpMethod(method), url, null);
        await AssertProblemAsync(response, HttpStatusCode.NotFound, "not-found");
        await AssertGuardIntactAsync(guard);
    }

    [Fact]
    public async Task NotFoundForAReleasedLease()
    {
        var guard = await GuardAsync();
        var gone = await AcquireOkAsync("""{"path":"/gone"}""");
        await ReleaseOkAsync(gone);

        using var get = await GetAsync($"/v1/leases/{gone.Id}");
        await AssertProblemAsync(get, HttpStatusCode.NotFound, "not-found");
        using var release = await ReleaseAsync(gone);
        await AssertProblemAsync(release, HttpStatusCode.NotFound, "not-found");
        using var renew = await SendAsync(HttpMethod.Post, $"/v1/leases/{gone.Id}/renew", gone.Token);
        await AssertProblemAsync(renew, HttpStatusCode.NotFound, "not-found");
        await AssertGuardIntactAsync(guard);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("xyz")]
    [InlineData("0123456789abcdef0123456789abcde")]
    [InlineData("0123456789abcdef0123456789abcdef0")]
    [InlineData("0123456789abcdef0123456789abcdeg")]
    [InlineData(OtherToken)]
    public async Task InvalidTokenOnReleaseAndRenewChangesNothing(string? token)
    {
        var guard = await GuardAsync();
        var before = await GetJsonAsync($"/v1/leases/{guard.Id}");

        using var release = await SendAsync(HttpMethod.Delete, $"/v1/leases/{guard.Id}", token);
        await AssertProblemAsync(release, HttpStatusCode.Forbidden, "invalid-token");
        using var renew = await SendAsync(HttpMethod.Post, $"/v1/leases/{guard.Id}/renew", token, """{"ttl":5}""");
        await AssertProblemAsync(renew, HttpStatusCode.Forbidden, "invalid-token");

        var after = await GetJsonAsync($"/v1/leases/{guard.Id}");
        Assert.Equal(before.GetRawText(), after.GetRawText());
        await AssertGuardIntactAsync(guard);
        using var locked = await AcquireAsync("""{"path":"/guard"}""");
        await AssertProblemAsync(locked, HttpStatusCode.Conflict, "locked");
        // The right token still works.
        await ReleaseOkAsync(guard);
    }

    [Fact]
    public async Task InvalidTokenOnSessionRoutes()
    {
        var guard = await GuardAsync();
        using var opened = await PostAsync("/v1/sessions", """{"ttl":60}""");
        var session = await ReadJsonAsync(opened, HttpStatusCode.Created);
        var id = session.GetProperty("id").GetInt64();
        var bound = await AcquireOkAsync($$"""{"path":"/s","session":{{id}}}""");

        foreach (var token in new[] { null, "nope", OtherToken })
        {
            using var keep = await SendAsync(HttpMethod.Post, $"/v1/sessions/{id}/keepalive", token);
            await AssertProblemAsync(keep, HttpStatusCode.Forbidden, "invalid-token");
            using var close = await SendAsync(HttpMethod.Delete, $"/v1/sessions/{id}", token);
            await AssertProblemAsync(close, HttpStatusCode.Forbidden, "invalid-token");
        }
        await AssertStillHeldAsync(bound, "/s");
        using var ok = await SendAsync(HttpMethod.Post, $"/v1/sessions/{id}/keepalive", session.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        await AssertGuardIntactAsync(guard);
    }

    public static TheoryData<string> InvalidPaths()
    {
        var deep = string.Concat(Enumerable.Repeat("/s", 33));
        return new TheoryData<string>
        {
            "lab/a",
            "",
            "/a//b",
            "/a/",
            "/a/../b",
            "/a/./b",
            "/a\u0001b",
            "/a\tb",
            deep,
            "/" + new string('x', 256),
        };
    }

    [Theory]
    [MemberData(nameof(InvalidPaths))]
    public async Task InvalidPathInTheBody(string path)
    {
        var guard = await GuardAsync();
        var quoted = System.Text.Json.JsonSerializer.Serialize(path);
        using var one = await AcquireAsync($$"""{"path":{{quoted}}}""");
        await AssertProblemAsync(one, HttpStatusCode.BadRequest, "invalid-path");
        using var many = await AcquireAsync($$"""{"paths":["/ok",{{quoted}}]}""");
        await AssertProblemAsync(many, HttpStatusCode.BadRequest, "invalid-path");
        Assert.Empty(HolderIds(await GetResourceAsync("/ok")));
        await AssertGuardIntactAsync(guard);
    }

    [Fact]
    public async Task UnpairedSurrogateEscapeIsRefused()
    {
        // The JSON reader refuses a lone surrogate escape before the path rules see it.
        var guard = await GuardAsync();
        using var response = await AcquireAsync("""{"path":"/a\ud800b"}""");
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-json");
        await AssertGuardIntactAsync(guard);
    }

    [Fact]
    public async Task DeepestAndLongestValidPathsAreAccepted()
    {
        await AcquireOkAsync($$"""{"path":"{{string.Concat(Enumerable.Repeat("/s", 32))}}"}""");
        await AcquireOkAsync($$"""{"path":"/{{new string('x', 255)}}"}""");
    }

    [Theory]
    [InlineData("/v1/resources/a%2Fb")]
    [InlineData("/v1/resources/guard%2Fx")]
    [InlineData("/v1/resources/a//b")]
    [InlineData("/v1/resources/a/")]
    [InlineData("/v1/resources/a%01b")]
    [InlineData("/v1/fences/a%2Fb?fence=1")]
    [InlineData("/v1/fences/a//b?fence=1")]
    public async Task InvalidPathInTheRoute(string url)
    {
        var guard = await GuardAsync();
        using var response = await GetAsync(url);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-path");
        await AssertGuardIntactAsync(guard);
    }

    [Fact]
    public async Task TooDeepPathInTheRoute()
    {
        using var deep = await GetAsync("/v1/resources" + string.Concat(Enumerable.Repeat("/s", 33)));
        await AssertProblemAsync(deep, HttpStatusCode.BadRequest, "invalid-path");
        using var deepest = await GetAsync("/v1/resources" + string.Concat(Enumerable.Repeat("/s", 32)));
        Assert.Equal(HttpStatusCode.OK, deepest.StatusCode);
    }

    [Fact]
    public async Task InvalidPathInTheListingPrefix()
    {
        var guard = await GuardAsync();
        using var response = await GetAsync("/v1/resources?prefix=guard");
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-path");
        await AssertGuardIntactAsync(guard);
    }

    [Theory]
    [InlineData("""{"path":"/a","paths":["/b"]}""")]
    [InlineData("""{}""")]
    [InlineData("""{"paths":[]}""")]
    [InlineData("""{"path":"/a","mode":"read"}""")]
    [InlineData("""{"path":"/a","mode":"Exclusive"}""")]
    [InlineData("""{"path":"/a","mode":"shared","limit":2}""")]
    [InlineData("""{"path":"/a","mode":"shared","limit":1}""")]
    [InlineData("""{"path":"/a","limit":0}""")]
    [InlineData("""{"path":"/a","limit":1000001}""")]
    [InlineData("""{"path":"/a","ttl":-1}""")]
    [InlineData("""{"path":"/a","ttl":0}""")]
    [InlineData("""{"path":"/a","ttl":1e12}""")]
    [InlineData("""{"path":"/a","ttl":31622401}""")]
    [InlineData("""{"path":"/a","ttl":1.7976931348623157e308}""")]
    [InlineData("""{"path":"/a","ttl":1e400}""")]
    [InlineData("""{"path":"/a","wait":86400.5}""")]
    [InlineData("""{"path":"/a","wait":-0.1}""")]
    [InlineData("""{"paths":["/a","/b","/a"]}""")]
    public async Task InvalidArgumentInTheAcquireBody(string body)
    {
        var guard = await GuardAsync();
        using var response = await AcquireAsync(body);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-argument");
        Assert.Empty(HolderIds(await GetResourceAsync("/a")));
        Assert.Equal(0, (await GetResourceAsync("/a")).GetProperty("queue").GetArrayLength());
        await AssertGuardIntactAsync(guard);
    }

    [Fact]
    public async Task InvalidArgumentForTooManyPathsOrTooLongAnOwner()
    {
        var guard = await GuardAsync();
        var paths = string.Join(',', Enumerable.Range(0, 65).Select(i => $"\"/m/{i}\""));
        using var many = await AcquireAsync($$"""{"paths":[{{paths}}]}""");
        await AssertProblemAsync(many, HttpStatusCode.BadRequest, "invalid-argument");
        using var owner = await AcquireAsync($$"""{"path":"/a","owner":"{{new string('o', 257)}}"}""");
        await AssertProblemAsync(owner, HttpStatusCode.BadRequest, "invalid-argument");
        Assert.Empty((await GetJsonAsync("/v1/resources?prefix=/m")).GetProperty("resources").EnumerateArray());
        await AssertGuardIntactAsync(guard);

        var fine = string.Join(',', Enumerable.Range(0, 64).Select(i => $"\"/m/{i}\""));
        await AcquireOkAsync($$"""{"paths":[{{fine}}],"owner":"{{new string('o', 256)}}"}""");
    }

    [Theory]
    [InlineData("""{"ttl":0}""")]
    [InlineData("""{"ttl":-5}""")]
    [InlineData("""{"ttl":1e12}""")]
    public async Task InvalidArgumentOnRenewChangesNothing(string body)
    {
        var guard = await GuardAsync();
        var before = await GetJsonAsync($"/v1/leases/{guard.Id}");
        using var response = await SendAsync(HttpMethod.Post, $"/v1/leases/{guard.Id}/renew", guard.Token, body);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-argument");
        Assert.Equal(before.GetRawText(), (await GetJsonAsync($"/v1/leases/{guard.Id}")).GetRawText());
        await AssertGuardIntactAsync(guard);
    }

    [Theory]
    [InlineData("""{"ttl":0.5}""")]
    [InlineData("""{"ttl":0}""")]
    [InlineData("""{"ttl":86401}""")]
    [InlineData("""{"ttl":-1}""")]
    public async Task InvalidArgumentOnSessionOpen(string body)
    {
        var guard = await GuardAsync();
        using var response = await PostAsync("/v1/sessions", body);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-argument");
        await AssertGuardIntactAsync(guard);
    }

    [Theory]
    [InlineData("/v1/resources?limit=0")]
    [InlineData("/v1/resources?limit=10001")]
    [InlineData("/v1/resources?limit=ten")]
    [InlineData("/v1/fences/guard")]
    [InlineData("/v1/fences/guard?fence=")]
    [InlineData("/v1/fences/guard?fence=0")]
    [InlineData("/v1/fences/guard?fence=-3")]
    [InlineData("/v1/fences/guard?fence=abc")]
    public async Task InvalidArgumentInTheQuery(string url)
    {
        var guard = await GuardAsync();
        using var response = await GetAsync(url);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-argument");
        await AssertGuardIntactAsync(guard);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("not json")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("""{"path":"/a"} {"path":"/b"}""")]
    [InlineData("""{"path":5}""")]
    [InlineData("""{"paths":"/a"}""")]
    [InlineData("""{"path":"/a","ttl":"5"}""")]
    [InlineData("""{"path":"/a","ttl":NaN}""")]
    [InlineData("""{"path":"/a","ttl":"NaN"}""")]
    [InlineData("""{"path":"/a","limit":1.5}""")]
    [InlineData("""{"path":"/a","lockParents":"no"}""")]
    [InlineData("""{"path":"/a","tll":5}""")]
    [InlineData("""{"Path":"/a","extra":true}""")]
    public async Task InvalidJsonInTheAcquireBody(string body)
    {
        var guard = await GuardAsync();
        using var response = await AcquireAsync(body);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-json");
        Assert.Empty(HolderIds(await GetResourceAsync("/a")));
        await AssertGuardIntactAsync(guard);
    }

    [Fact]
    public async Task InvalidJsonForAnEmptyAcquireBody()
    {
        var guard = await GuardAsync();
        using var empty = await AcquireAsync("");
        await AssertProblemAsync(empty, HttpStatusCode.BadRequest, "invalid-json");
        using var none = await AcquireAsync(null);
        await AssertProblemAsync(none, HttpStatusCode.BadRequest, "invalid-json");
        await AssertGuardIntactAsync(guard);
    }

    [Fact]
    public async Task InvalidJsonOnRenewAndSessionBodies()
    {
        var guard = await GuardAsync();
        using var renew = await SendAsync(HttpMethod.Post, $"/v1/leases/{guard.Id}/renew", guard.Token, """{"ttl":"long"}""");
        await AssertProblemAsync(renew, HttpStatusCode.BadRequest, "invalid-json");
        using var session = await PostAsync("/v1/sessions", """{"ttl":10,"tll":5}""");
        await AssertProblemAsync(session, HttpStatusCode.BadRequest, "invalid-json");
        await AssertGuardIntactAsync(guard);
    }

    [Fact]
    public async Task PayloadTooLargeOver64KiB()
    {
        var guard = await GuardAsync();
        var big = $$"""{"path":"/a","owner":"{{new string('o', 70 * 1024)}}"}""";
        using var acquire = await AcquireAsync(big);
        await AssertProblemAsync(acquire, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
        using var session = await PostAsync("/v1/sessions", $$"""{"owner":"{{new string('o', 65 * 1024)}}"}""");
        await AssertProblemAsync(session, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
        Assert.Empty(HolderIds(await GetResourceAsync("/a")));
        await AssertGuardIntactAsync(guard);
    }

    [Fact]
    public async Task PayloadTooLargeWhenChunked()
    {
        var guard = await GuardAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/leases", UriKind.Relative))
        {
            Content = Json($$"""{"path":"/a","owner":"{{new string('o', 70 * 1024)}}"}"""),
        };
        request.Headers.TransferEncodingChunked = true;
        using var response = await Client.SendAsync(request);
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
        await AssertGuardIntactAsync(guard);
    }

    [Fact]
    public async Task PayloadJustUnder64KiBIsReadNotRefused()
    {
        // Well-formed JSON of about 63 KiB: the body is read, then refused for the long owner, not for its size.
        var body = $$"""{"path":"/a","owner":"{{new string('o', 63 * 1024)}}"}""";
        Assert.True(Encoding.UTF8.GetByteCount(body) < 64 * 1024);
        using var response = await AcquireAsync(body);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-argument");
    }

    [Theory]
    [InlineData("PUT", "/v1/leases")]
    [InlineData("GET", "/v1/leases")]
    [InlineData("PATCH", "/v1/leases/1")]
    [InlineData("PUT", "/v1/leases/1/renew")]
    [InlineData("PATCH", "/v1/resources/guard")]
    [InlineData("POST", "/v1/fences/guard")]
    [InlineData("GET", "/v1/sessions")]
    [InlineData("POST", "/healthz")]
    public async Task MethodNotAllowed(string method, string url)
    {
        var guard = await GuardAsync();
        using var response = await SendAsync(new HttpMethod(method), url, guard.Token);
        await AssertProblemAsync(response, HttpStatusCode.MethodNotAllowed, "method-not-allowed");
        await AssertGuardIntactAsync(guard);
    }

    [Fact]
    public async Task SessionEndedAnswersAWaiterBoundToTheSession()
    {
        var guard = await GuardAsync();
        using var opened = await PostAsync("/v1/sessions", """{"ttl":60}""");
        var session = await ReadJsonAsync(opened, HttpStatusCode.Created);
        var id = session.GetProperty("id").GetInt64();

        var waiting = AcquireAsync($$"""{"path":"/guard","wait":30,"session":{{id}}}""", Server.CreateClient());
        await WaitForQueueAsync("/guard", 1);
        using var close = await SendAsync(HttpMethod.Delete, $"/v1/sessions/{id}", session.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.NoContent, close.StatusCode);

        using var answer = await Bounded(waiting);
        await AssertProblemAsync(answer, HttpStatusCode.Conflict, "session-ended");
        Assert.Equal(0, (await GetResourceAsync("/guard")).GetProperty("queue").GetArrayLength());
        await AssertGuardIntactAsync(guard);
    }

    [Fact]
    public async Task NotFoundForUnknownSessions()
    {
        var guard = await GuardAsync();
        using var acquire = await AcquireAsync("""{"path":"/a","session":424242}""");
        await AssertProblemAsync(acquire, HttpStatusCode.NotFound, "not-found");
        // Session ids start at 1: 0 names no session either, and must not silently mean "unbound".
        using var zero = await AcquireAsync("""{"path":"/a","session":0}""");
        await AssertProblemAsync(zero, HttpStatusCode.NotFound, "not-found");
        using var negative = await AcquireAsync("""{"path":"/a","session":-1}""");
        await AssertProblemAsync(negative, HttpStatusCode.NotFound, "not-found");
        using var keep = await SendAsync(HttpMethod.Post, "/v1/sessions/424242/keepalive", OtherToken);
        await AssertProblemAsync(keep, HttpStatusCode.NotFound, "not-found");
        using var close = await SendAsync(HttpMethod.Delete, "/v1/sessions/424242", OtherToken);
        await AssertProblemAsync(close, HttpStatusCode.NotFound, "not-found");
        Assert.Empty(HolderIds(await GetResourceAsync("/a")));
        await AssertGuardIntactAsync(guard);
    }
}

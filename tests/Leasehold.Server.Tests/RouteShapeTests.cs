using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;

namespace Leasehold.Server.Tests;

/// <summary>What each route answers when all goes well: status, content type and every JSON field.</summary>
public sealed class RouteShapeTests : ServerTestBase
{
    private static readonly string[] LeaseFields =
        ["id", "token", "owner", "principal", "mode", "paths", "limit", "ttl", "fence", "acquiredAt", "expiresAt", "session", "lockParents", "lockChildren", "waited"];

    private static string[] FieldNames(JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];

    private static string[] Sorted(IEnumerable<string> names) => [.. names.Order(StringComparer.Ordinal)];

    [Fact]
    public async Task AcquireAnswers201WithTheWholeLeaseAndItsToken()
    {
        var before = DateTimeOffset.UtcNow;
        using var response = await AcquireAsync("""{"path":"/lab/rack-2/phone-7","owner":"ci-42","ttl":60}""");
        var lease = await ReadJsonAsync(response, HttpStatusCode.Created);
        var after = DateTimeOffset.UtcNow;

        Assert.Null(response.Headers.Location);
        Assert.Equal(Sorted(LeaseFields), FieldNames(lease));
        Assert.True(lease.GetProperty("id").GetInt64() > 0);
        Assert.Matches("^[0-9a-f]{32}$", lease.GetProperty("token").GetString());
        Assert.Equal("ci-42", lease.GetProperty("owner").GetString());
        Assert.Equal("exclusive", lease.GetProperty("mode").GetString());
        Assert.Equal(["/lab/rack-2/phone-7"], lease.GetProperty("paths").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(1, lease.GetProperty("limit").GetInt32());
        Assert.Equal(60, lease.GetProperty("ttl").GetDouble());
        Assert.True(lease.GetProperty("fence").GetInt64() >= 1);
        var acquiredAt = lease.GetProperty("acquiredAt").GetDateTimeOffset();
        Assert.InRange(acquiredAt, before.AddSeconds(-1), after.AddSeconds(1));
        Assert.Equal(acquiredAt.AddSeconds(60), lease.GetProperty("expiresAt").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, lease.GetProperty("session").ValueKind);
        Assert.True(lease.GetProperty("lockParents").GetBoolean());
        Assert.True(lease.GetProperty("lockChildren").GetBoolean());
        Assert.Equal(0, lease.GetProperty("waited").GetDouble());
    }

    [Fact]
    public async Task AcquireDefaultsAreNoOwnerNoTtlExclusiveLimitOne()
    {
        using var response = await AcquireAsync("""{"path":"/a"}""");
        var lease = await ReadJsonAsync(response, HttpStatusCode.Created);
        Assert.Equal(JsonValueKind.Null, lease.GetProperty("owner").ValueKind);
        Assert.Equal(JsonValueKind.Null, lease.GetProperty("ttl").ValueKind);
        Assert.Equal(JsonValueKind.Null, lease.GetProperty("expiresAt").ValueKind);
        Assert.Equal("exclusive", lease.GetProperty("mode").GetString());
        Assert.Equal(1, lease.GetProperty("limit").GetInt32());
    }

    [Fact]
    public async Task SharedMultiPathLeaseEchoesItsClaimWithoutALimit()
    {
        using var response = await AcquireAsync("""{"paths":["/db/orders","/db/users"],"mode":"shared","lockParents":false,"lockChildren":false}""");
        var lease = await ReadJsonAsync(response, HttpStatusCode.Created);
        Assert.Equal("shared", lease.GetProperty("mode").GetString());
        Assert.Equal(["/db/orders", "/db/users"], lease.GetProperty("paths").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(JsonValueKind.Null, lease.GetProperty("limit").ValueKind);
        Assert.False(lease.GetProperty("lockParents").GetBoolean());
        Assert.False(lease.GetProperty("lockChildren").GetBoolean());
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("text/plain")]
    [InlineData(null)]
    public async Task TheBodyIsJsonWhateverItsContentType(string? contentType)
    {
        var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes("""{"path":"/plain","owner":"curl"}"""));
        if (contentType is not null)
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }
        using var response = await Client.PostAsync(new Uri("/v1/leases", UriKind.Relative), content);
        var lease = await ReadJsonAsync(response, HttpStatusCode.Created);
        Assert.Equal("curl", lease.GetProperty("owner").GetString());
    }

    [Fact]
    public async Task ChunkedBodiesAreReadLikeOthers()
    {
        async Task<HttpResponseMessage> PostChunkedAsync(string url, string body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(url, UriKind.Relative)) { Content = Json(body) };
            request.Headers.TransferEncodingChunked = true;
            return await Client.SendAsync(request);
        }

        using var acquired = await PostChunkedAsync("/v1/leases", """{"path":"/chunked"}""");
        Assert.Equal(["/chunked"], (await ReadJsonAsync(acquired, HttpStatusCode.Created)).GetProperty("paths").EnumerateArray().Select(p => p.GetString()));
        using var empty = await PostChunkedAsync("/v1/leases", "");
        await AssertProblemAsync(empty, HttpStatusCode.BadRequest, "invalid-json");
        using var session = await PostChunkedAsync("/v1/sessions", "");
        Assert.Equal(30, (await ReadJsonAsync(session, HttpStatusCode.Created)).GetProperty("ttl").GetDouble());
    }

    [Fact]
    public async Task FencesGrowWithEveryGrantEvenOnTheSamePath()
    {
        var first = await AcquireOkAsync("""{"path":"/f"}""");
        var other = await AcquireOkAsync("""{"path":"/g"}""");
        await ReleaseOkAsync(first);
        var again = await AcquireOkAsync("""{"path":"/f"}""");
        Assert.True(other.Fence > first.Fence);
        Assert.True(again.Fence > other.Fence);
        Assert.NotEqual(first.Id, again.Id);
        Assert.NotEqual(first.Token, again.Token);
    }

    [Fact]
    public async Task GetLeaseAnswersTheLeaseWithoutItsToken()
    {
        using var acquired = await AcquireAsync("""{"path":"/a/b","owner":"me","ttl":30}""");
        var lease = await ReadJsonAsync(acquired, HttpStatusCode.Created);
        var id = lease.GetProperty("id").GetInt64();

        var got = await GetJsonAsync($"/v1/leases/{id}");

        Assert.Equal(Sorted(LeaseFields.Where(f => f != "token")), FieldNames(got));
        foreach (var field in LeaseFields.Where(f => f != "token"))
        {
            Assert.Equal(lease.GetProperty(field).GetRawText(), got.GetProperty(field).GetRawText());
        }
    }

    [Fact]
    public async Task RenewRestartsTheTtlWithoutShowingTheToken()
    {
        using var acquired = await AcquireAsync("""{"path":"/r","ttl":60}""");
        var lease = await ReadJsonAsync(acquired, HttpStatusCode.Created);
        var held = ToHeld(lease);
        var firstExpiry = lease.GetProperty("expiresAt").GetDateTimeOffset();

        using var longer = await SendAsync(HttpMethod.Post, $"/v1/leases/{held.Id}/renew", held.Token, """{"ttl":600}""");
        var renewed = await ReadJsonAsync(longer, HttpStatusCode.OK);
        Assert.False(renewed.TryGetProperty("token", out _));
        Assert.Equal(600, renewed.GetProperty("ttl").GetDouble());
        Assert.Equal(held.Fence, renewed.GetProperty("fence").GetInt64());
        var secondExpiry = renewed.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.True(secondExpiry >= firstExpiry.AddSeconds(539), $"{secondExpiry} should be about 540 s after {firstExpiry}");

        // No body: the same ttl again, from now.
        using var same = await SendAsync(HttpMethod.Post, $"/v1/leases/{held.Id}/renew", held.Token);
        var again = await ReadJsonAsync(same, HttpStatusCode.OK);
        Assert.Equal(600, again.GetProperty("ttl").GetDouble());
        Assert.True(again.GetProperty("expiresAt").GetDateTimeOffset() >= secondExpiry);
        Assert.Equal(again.GetProperty("expiresAt").GetDateTimeOffset(), (await GetJsonAsync($"/v1/leases/{held.Id}")).GetProperty("expiresAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task ReleaseAnswers204AndTheLeaseIsGone()
    {
        var held = await AcquireOkAsync("""{"path":"/x"}""");
        using var response = await ReleaseAsync(held);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());

        using var get = await GetAsync($"/v1/leases/{held.Id}");
        await AssertProblemAsync(get, HttpStatusCode.NotFound, "not-found");
        Assert.Empty(HolderIds(await GetResourceAsync("/x")));
        await AcquireOkAsync("""{"path":"/x"}""");
    }

    [Fact]
    public async Task ResourceShowsHoldersAndQueue()
    {
        var held = await AcquireOkAsync("""{"path":"/res","owner":"a"}""");
        var resource = await GetResourceAsync("/res");
        Assert.Equal(["attributes", "blockedBy", "holders", "path", "queue", "queuedAhead"], FieldNames(resource));
        Assert.Equal("/res", resource.GetProperty("path").GetString());
        Assert.Equal([held.Id], HolderIds(resource));
        Assert.False(resource.GetProperty("holders")[0].TryGetProperty("token", out _));
        Assert.Equal(0, resource.GetProperty("queue").GetArrayLength());

        var free = await GetResourceAsync("/nothing/here");
        Assert.Equal("/nothing/here", free.GetProperty("path").GetString());
        Assert.Empty(HolderIds(free));
    }

    [Fact]
    public async Task SessionOpenAnswers201WithTokenAndKeepAliveWithout()
    {
        using var opened = await PostAsync("/v1/sessions", """{"ttl":15,"owner":"worker-7"}""");
        var session = await ReadJsonAsync(opened, HttpStatusCode.Created);
        Assert.Null(opened.Headers.Location);
        Assert.Equal(["expiresAt", "id", "leases", "owner", "principal", "token", "ttl"], FieldNames(session));
        Assert.Matches("^[0-9a-f]{32}$", session.GetProperty("token").GetString());
        Assert.Equal("worker-7", session.GetProperty("owner").GetString());
        Assert.Equal(15, session.GetProperty("ttl").GetDouble());
        Assert.Equal(0, session.GetProperty("leases").GetInt32());
        var id = session.GetProperty("id").GetInt64();
        var token = session.GetProperty("token").GetString()!;

        var lease = await AcquireOkAsync($$"""{"path":"/jobs/nightly","session":{{id}}}""");
        Assert.Equal(id, (await GetJsonAsync($"/v1/leases/{lease.Id}")).GetProperty("session").GetInt64());

        using var kept = await SendAsync(HttpMethod.Post, $"/v1/sessions/{id}/keepalive", token);
        var alive = await ReadJsonAsync(kept, HttpStatusCode.OK);
        Assert.False(alive.TryGetProperty("token", out _));
        Assert.Equal(1, alive.GetProperty("leases").GetInt32());
        Assert.True(alive.GetProperty("expiresAt").GetDateTimeOffset() >= session.GetProperty("expiresAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task SessionTtlDefaultsTo30Seconds()
    {
        using var opened = await PostAsync("/v1/sessions", null);
        var session = await ReadJsonAsync(opened, HttpStatusCode.Created);
        Assert.Equal(30, session.GetProperty("ttl").GetDouble());
        Assert.Equal(JsonValueKind.Null, session.GetProperty("owner").ValueKind);
    }

    [Fact]
    public async Task HealthzAnswersOk()
    {
        using var response = await GetAsync("/healthz");
        var health = await ReadJsonAsync(response, HttpStatusCode.OK);
        Assert.Equal("ok", health.GetProperty("status").GetString());
    }

    [Fact]
    public async Task StatsCountWhatTheServerHolds()
    {
        var empty = await GetJsonAsync("/v1/stats");
        Assert.Equal(["allocatedBytes", "durability", "lastFence", "leases", "loggedCommands", "sessions", "syncs", "waiters"], FieldNames(empty));
        Assert.Equal("fsync", empty.GetProperty("durability").GetString());
        Assert.Equal(0, empty.GetProperty("leases").GetInt32());

        using var opened = await PostAsync("/v1/sessions", """{"ttl":60}""");
        Assert.Equal(HttpStatusCode.Created, opened.StatusCode);
        await AcquireOkAsync("""{"path":"/a"}""");
        var last = await AcquireOkAsync("""{"path":"/b"}""");
        var waiter = AcquireAsync("""{"path":"/a","wait":30}""", Server.CreateClient());
        await WaitForQueueAsync("/a", 1);

        var stats = await GetJsonAsync("/v1/stats");
        Assert.Equal(2, stats.GetProperty("leases").GetInt32());
        Assert.Equal(1, stats.GetProperty("sessions").GetInt32());
        Assert.Equal(1, stats.GetProperty("waiters").GetInt32());
        Assert.Equal(last.Fence, stats.GetProperty("lastFence").GetInt64());
        Assert.True(stats.GetProperty("loggedCommands").GetInt64() >= 4);
        Assert.True(stats.GetProperty("syncs").GetInt64() >= 1);
        // The requests in between allocated: the count only grows.
        Assert.True(stats.GetProperty("allocatedBytes").GetInt64() > empty.GetProperty("allocatedBytes").GetInt64());
        Assert.False(waiter.IsCompleted);
    }

    [Fact]
    public async Task OpenApiDocumentListsEveryV1Route()
    {
        var document = await GetJsonAsync("/openapi/v1.json");
        var documented = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in document.GetProperty("paths").EnumerateObject().Where(p => p.Name.StartsWith("/v1", StringComparison.Ordinal)))
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                documented.Add($"{operation.Name.ToUpperInvariant()} {path.Name}");
            }
        }

        // Every route the application maps under /v1, written the way OpenAPI writes it.
        var mapped = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in ((IEndpointRouteBuilder)Server.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>())
        {
            var pattern = endpoint.RoutePattern.RawText ?? "";
            if (!pattern.StartsWith("/v1", StringComparison.Ordinal))
            {
                continue;
            }
            var openApiPath = pattern.Replace("{**", "{", StringComparison.Ordinal).TrimEnd('/');
            foreach (var method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [])
            {
                mapped.Add($"{method} {openApiPath}");
            }
        }
        string[] contract =
        [
            "DELETE /v1/leases/{id}",
            "DELETE /v1/sessions/{id}",
            "GET /v1/fences/{path}",
            "GET /v1/leases/{id}",
            "GET /v1/resources",
            "GET /v1/resources/{path}",
            "POST /v1/leases",
            "POST /v1/leases/{id}/renew",
            "POST /v1/sessions",
            "POST /v1/sessions/{id}/keepalive",
        ];
        Assert.Subset(mapped, new HashSet<string>(contract, StringComparer.Ordinal));
        Assert.Equal(mapped.ToArray(), documented.ToArray());
        var acquire = document.GetProperty("paths").GetProperty("/v1/leases").GetProperty("post");
        Assert.True(acquire.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
    }
}

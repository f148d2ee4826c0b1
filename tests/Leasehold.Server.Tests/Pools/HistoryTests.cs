using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Leasehold.Server.Tests.Pools;

/// <summary><c>GET /v1/history</c> and <c>GET /v1/utilization</c> after a few leases.</summary>
public sealed class HistoryTests : PoolTestBase
{
    // endedBy appears only on entries an administrator ended (Admin/AdminRouteTests).
    private static readonly string[] EntryFields =
        ["acquiredAt", "endedAt", "fence", "held", "lease", "owner", "paths", "principal", "queued", "reason", "requirements"];

    private async Task<JsonElement[]> HistoryAsync(string query = "")
        => [.. (await GetJsonAsync("/v1/history" + query)).GetProperty("entries").EnumerateArray()];

    private static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.ToString("O", CultureInfo.InvariantCulture));

    [Fact]
    public async Task HistoryListsFinishedLeasesNewestFirstWithWhyTheyEnded()
    {
        var start = DateTimeOffset.UtcNow.AddSeconds(-1);
        Assert.Empty(await HistoryAsync());
        foreach (var name in new[] { "1", "2", "3" })
        {
            await DeclareAsync("/lab/" + name, """{"os":"linux"}""");
        }

        // Released.
        var alice = await AcquireOkAsync("""{"pool":"/lab","require":"os=linux","owner":"alice"}""");
        await ReleaseOkAsync(alice);
        // Expired.
        var bob = await AcquireOkAsync("""{"pool":"/lab","require":{"os":"linux"},"owner":"bob","ttl":0.2}""");
        await WaitUntilAsync(async () => (await HistoryAsync("?owner=bob")).Length == 1, "bob's lease expired");
        // Ended with its session.
        using var opened = await SendAsync(HttpMethod.Post, "/v1/sessions", """{"ttl":60,"owner":"carol"}""");
        var session = await ReadJsonAsync(opened, HttpStatusCode.Created);
        var carol = await AcquireOkAsync($$"""{"pool":"/lab","owner":"carol","session":{{session.GetProperty("id").GetInt64()}}}""");
        using (var closed = await SendAsync(HttpMethod.Delete, $"/v1/sessions/{session.GetProperty("id").GetInt64()}", token: session.GetProperty("token").GetString()))
        {
            Assert.Equal(HttpStatusCode.NoContent, closed.StatusCode);
        }
        // A lock by name elsewhere, still held, and one released: only the finished one, and only without the prefix.
        await AcquireOkAsync("""{"path":"/other/x","owner":"dave"}""");
        await ReleaseOkAsync(await AcquireOkAsync("""{"path":"/other/y","owner":"erin"}"""));
        var end = DateTimeOffset.UtcNow.AddSeconds(1);

        var lab = await HistoryAsync("?prefix=/lab");
        Assert.Equal(["carol", "bob", "alice"], lab.Select(e => e.GetProperty("owner").GetString()));
        Assert.Equal(["session-ended", "expired", "released"], lab.Select(e => e.GetProperty("reason").GetString()));
        Assert.Equal([Id(carol), Id(bob), Id(alice)], lab.Select(e => e.GetProperty("lease").GetInt64()));
        foreach (var (entry, lease) in lab.Zip([carol, bob, alice]))
        {
            Assert.Equal(EntryFields, entry.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Equal(lease.GetProperty("fence").GetInt64(), entry.GetProperty("fence").GetInt64());
            Assert.Equal(Paths(lease), entry.GetProperty("paths").EnumerateArray().Select(p => p.GetString()!));
            Assert.Equal(lease.GetProperty("acquiredAt").GetDateTimeOffset(), entry.GetProperty("acquiredAt").GetDateTimeOffset());
            var endedAt = entry.GetProperty("endedAt").GetDateTimeOffset();
            Assert.InRange(endedAt, entry.GetProperty("acquiredAt").GetDateTimeOffset(), end);
            Assert.Equal((endedAt - entry.GetProperty("acquiredAt").GetDateTimeOffset()).TotalSeconds, entry.GetProperty("held").GetDouble(), 3);
            Assert.Equal(0, entry.GetProperty("queued").GetDouble());
        }
        // The requirement of each pool lease, as the query object it was compiled from.
        AssertJsonEqual("""["{\"os\":\"linux\"}"]""", lab[2].GetProperty("requirements"));
        AssertJsonEqual("""["{\"os\":\"linux\"}"]""", lab[1].GetProperty("requirements"));
        AssertJsonEqual("""["{}"]""", lab[0].GetProperty("requirements"));
        Assert.True(lab[1].GetProperty("held").GetDouble() >= 0.19, $"bob held for {lab[1].GetProperty("held")}");

        var all = await HistoryAsync();
        Assert.Equal(["erin", "carol", "bob", "alice"], all.Select(e => e.GetProperty("owner").GetString()));
        Assert.Equal(JsonValueKind.Null, all[0].GetProperty("requirements").ValueKind);
        Assert.Equal(["/other/y"], all[0].GetProperty("paths").EnumerateArray().Select(p => p.GetString()));

        // Filters.
        Assert.Equal(["alice"], (await HistoryAsync("?owner=alice")).Select(e => e.GetProperty("owner").GetString()));
        Assert.Empty(await HistoryAsync("?owner=nobody"));
        Assert.Equal(["erin", "carol"], (await HistoryAsync("?limit=2")).Select(e => e.GetProperty("owner").GetString()));
        Assert.Equal(4, (await HistoryAsync($"?since={Iso(start)}&until={Iso(end)}")).Length);
        Assert.Empty(await HistoryAsync($"?since={Iso(end)}"));
        Assert.Empty(await HistoryAsync($"?until={Iso(start)}"));
        var aliceEnded = lab[2].GetProperty("endedAt").GetDateTimeOffset();
        Assert.Equal(["alice"], (await HistoryAsync($"?prefix=/lab&until={Iso(aliceEnded)}")).Select(e => e.GetProperty("owner").GetString()));
        Assert.Equal(["carol", "bob"], (await HistoryAsync($"?prefix=/lab&since={Iso(aliceEnded.AddMilliseconds(1))}")).Select(e => e.GetProperty("owner").GetString()));
    }

    [Fact]
    public async Task QueuedTimeIsRecorded()
    {
        await DeclareAsync("/lab/1", "{}");
        var first = await AcquireOkAsync("""{"pool":"/lab","owner":"a"}""");
        var waiting = AcquireAsync("""{"pool":"/lab","owner":"b","wait":15}""", Server.CreateClient());
        await WaitForWaitersAsync(1);
        // Queued for a measurable while: until the waiter has waited at least 100 ms by the server's clock.
        await WaitUntilAsync(async () => (await GetJsonAsync("/v1/resources/lab/1")).GetProperty("queue")[0].GetProperty("waiting").GetDouble() >= 0.1,
            "the waiter has waited 100 ms");
        await ReleaseOkAsync(first);
        using var response = await Bounded(waiting);
        var second = await ReadJsonAsync(response, HttpStatusCode.Created);
        await ReleaseOkAsync(second);

        var entry = (await HistoryAsync("?owner=b")).Single();
        Assert.Equal(second.GetProperty("waited").GetDouble(), entry.GetProperty("queued").GetDouble());
        Assert.True(entry.GetProperty("queued").GetDouble() >= 0.1, $"queued {entry.GetProperty("queued")}");
    }

    [Theory]
    [InlineData("?limit=0", "invalid-argument")]
    [InlineData("?limit=10001", "invalid-argument")]
    [InlineData("?limit=ten", "invalid-argument")]
    [InlineData("?since=yesterday", "invalid-argument")]
    [InlineData("?until=soon", "invalid-argument")]
    [InlineData("?prefix=lab", "invalid-path")]
    [InlineData("?prefix=/lab//x", "invalid-path")]
    public async Task BadHistoryQueriesAreRefused(string query, string code)
    {
        using var response = await GetAsync("/v1/history" + query);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task UtilizationIsTheShareOfTheWindowEachDeclaredResourceWasHeld()
    {
        await DeclareAsync("/lab/1", "{}");
        await DeclareAsync("/lab/2", "{}");
        await DeclareAsync("/lab/3", "{}");
        await DeclareAsync("/other/9", "{}");
        // /lab/1: held for a while, released; /lab/2: held now; /lab/3: never; an undeclared path: not listed.
        // The server holds each lease within the client's view of it, so the client's stopwatches bound the held times.
        var aroundOne = Stopwatch.StartNew();
        var one = await AcquireOkAsync("""{"pool":"/lab"}""");
        Assert.Equal(["/lab/1"], Paths(one));
        await WaitUntilAsync(async () => (await GetJsonAsync($"/v1/leases/{Id(one)}")).GetProperty("acquiredAt").GetDateTimeOffset().AddMilliseconds(100) < DateTimeOffset.UtcNow,
            "/lab/1 was held 100 ms");
        await ReleaseOkAsync(one);
        var heldOneAtMost = aroundOne.Elapsed.TotalSeconds;
        var sinceTwo = Stopwatch.StartNew();
        var two = await AcquireOkAsync("""{"path":"/lab/2"}""");
        await AcquireOkAsync("""{"path":"/lab/undeclared"}""");

        var report = await GetJsonAsync("/v1/utilization?prefix=/lab&window=60");
        var heldTwoAtMost = sinceTwo.Elapsed.TotalSeconds;

        Assert.Equal(["from", "prefix", "resources", "to"], report.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("/lab", report.GetProperty("prefix").GetString());
        Assert.Equal(60, (report.GetProperty("to").GetDateTimeOffset() - report.GetProperty("from").GetDateTimeOffset()).TotalSeconds, 3);
        var resources = report.GetProperty("resources").EnumerateArray().ToDictionary(r => r.GetProperty("path").GetString()!);
        Assert.Equal(["/lab/1", "/lab/2", "/lab/3"], resources.Keys.Order(StringComparer.Ordinal));
        foreach (var resource in resources.Values)
        {
            Assert.Equal(["held", "path", "share"], resource.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Equal(resource.GetProperty("held").GetDouble() / 60, resource.GetProperty("share").GetDouble(), 6);
        }
        Assert.InRange(resources["/lab/1"].GetProperty("held").GetDouble(), 0.099, heldOneAtMost + 0.01);
        Assert.InRange(resources["/lab/2"].GetProperty("held").GetDouble(), 0, heldTwoAtMost + 0.01);
        Assert.Equal(0, resources["/lab/3"].GetProperty("held").GetDouble());
        Assert.Equal(0, resources["/lab/3"].GetProperty("share").GetDouble());
        await ReleaseOkAsync(two);

        // The default prefix is everything declared; a window ending before any lease shows nothing held.
        var everything = await GetJsonAsync("/v1/utilization");
        Assert.Equal("/", everything.GetProperty("prefix").GetString());
        Assert.Equal(4, everything.GetProperty("resources").GetArrayLength());
        Assert.Equal(3600, (everything.GetProperty("to").GetDateTimeOffset() - everything.GetProperty("from").GetDateTimeOffset()).TotalSeconds, 3);
    }

    [Theory]
    [InlineData("?window=0", "invalid-argument")]
    [InlineData("?window=-5", "invalid-argument")]
    [InlineData("?window=abc", "invalid-argument")]
    [InlineData("?window=NaN", "invalid-argument")]
    [InlineData("?window=40000000", "invalid-argument")]
    [InlineData("?prefix=lab", "invalid-path")]
    public async Task BadUtilizationQueriesAreRefused(string query, string code)
    {
        using var response = await GetAsync("/v1/utilization" + query);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, code);
    }
}

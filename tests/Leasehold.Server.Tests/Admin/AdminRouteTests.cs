using System.Net;
using System.Text.Json;
using Leasehold.Server.Tests.Pools;

namespace Leasehold.Server.Tests.Admin;

/// <summary><c>/v1/admin</c> through the real server: revoke, end a session, drain, undrain, listings.</summary>
public sealed class AdminRouteTests : PoolTestBase
{
    private async Task<JsonElement> DrainAsync(string path, HttpStatusCode status = HttpStatusCode.Created)
    {
        using var response = await SendAsync(HttpMethod.Put, "/v1/admin/drains" + path);
        return await ReadJsonAsync(response, status);
    }

    private async Task<JsonElement> UndrainAsync(string path)
    {
        using var response = await SendAsync(HttpMethod.Delete, "/v1/admin/drains" + path);
        return await ReadJsonAsync(response, HttpStatusCode.OK);
    }

    [Fact]
    public async Task Revoking_an_unknown_lease_is_not_found_and_changes_nothing()
    {
        var held = await AcquireOkAsync("""{"path":"/a","owner":"job"}""");
        var logged = (await StatsAsync()).GetProperty("loggedCommands").GetInt64();

        foreach (var id in new[] { (Id(held) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "x", "-1" })
        {
            using var response = await SendAsync(HttpMethod.Delete, $"/v1/admin/leases/{id}");
            await AssertProblemAsync(response, HttpStatusCode.NotFound, "not-found");
        }

        Assert.Equal([Id(held)], await HolderIdsAsync("/a"));
        Assert.Equal(logged, (await StatsAsync()).GetProperty("loggedCommands").GetInt64());
        Assert.Equal(0, (await GetJsonAsync("/v1/history")).GetProperty("entries").GetArrayLength());
    }

    [Fact]
    public async Task Revoke_fails_the_holders_renew_grants_the_next_waiter_a_larger_fence_and_is_in_the_history()
    {
        var held = await AcquireOkAsync("""{"path":"/rig/1","owner":"stuck-job","ttl":600}""");
        using var waiting = AcquireAsync("""{"path":"/rig/1","owner":"next","wait":30}""");
        await WaitUntilAsync(async () => await QueueLengthAsync("/rig/1") == 1, "the next job waits");

        using (var revoke = await SendAsync(HttpMethod.Delete, $"/v1/admin/leases/{Id(held)}"))
        {
            var revoked = await ReadJsonAsync(revoke, HttpStatusCode.OK);
            Assert.Equal(Id(held), Id(revoked));
            Assert.False(revoked.TryGetProperty("token", out _));
        }

        var next = await ReadJsonAsync(await Bounded(waiting), HttpStatusCode.Created);
        Assert.True(next.GetProperty("fence").GetInt64() > held.GetProperty("fence").GetInt64());
        using (var renew = await SendAsync(HttpMethod.Post, $"/v1/leases/{Id(held)}/renew", token: held.GetProperty("token").GetString()))
        {
            await AssertProblemAsync(renew, HttpStatusCode.NotFound, "not-found");
        }
        var entry = Assert.Single((await GetJsonAsync("/v1/history")).GetProperty("entries").EnumerateArray());
        Assert.Equal((Id(held), "revoked", "anonymous"), (entry.GetProperty("lease").GetInt64(), entry.GetProperty("reason").GetString(), entry.GetProperty("endedBy").GetString()));
        Assert.Equal(JsonValueKind.Null, entry.GetProperty("principal").ValueKind);
    }

    [Fact]
    public async Task Ending_a_session_ends_its_leases_and_the_history_names_who_did_it()
    {
        using var opened = await SendAsync(HttpMethod.Post, "/v1/sessions", """{"ttl":60,"owner":"worker"}""");
        var session = await ReadJsonAsync(opened, HttpStatusCode.Created);
        var id = session.GetProperty("id").GetInt64();
        var lease = await AcquireOkAsync($$"""{"path":"/s/1","session":{{id}}}""");

        using (var ended = await SendAsync(HttpMethod.Delete, $"/v1/admin/sessions/{id}"))
        {
            var dto = await ReadJsonAsync(ended, HttpStatusCode.OK);
            Assert.Equal((id, 1), (dto.GetProperty("id").GetInt64(), dto.GetProperty("leases").GetInt32()));
            Assert.False(dto.TryGetProperty("token", out _));
        }

        Assert.Empty(await HolderIdsAsync("/s/1"));
        var entry = Assert.Single((await GetJsonAsync("/v1/history")).GetProperty("entries").EnumerateArray());
        Assert.Equal((Id(lease), "session-ended", "anonymous"), (entry.GetProperty("lease").GetInt64(), entry.GetProperty("reason").GetString(), entry.GetProperty("endedBy").GetString()));
        using var again = await SendAsync(HttpMethod.Delete, $"/v1/admin/sessions/{id}");
        await AssertProblemAsync(again, HttpStatusCode.NotFound, "not-found");
        using var keepAlive = await SendAsync(HttpMethod.Post, $"/v1/sessions/{id}/keepalive", token: session.GetProperty("token").GetString());
        await AssertProblemAsync(keepAlive, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task A_try_under_a_drained_prefix_is_draining_and_the_resource_shows_the_drain()
    {
        var drain = await DrainAsync("/lab/rack-1");
        Assert.Equal(("/lab/rack-1", "anonymous"), (drain.GetProperty("path").GetString(), drain.GetProperty("actor").GetString()));

        var problem = await AcquireFailsAsync("""{"path":"/lab/rack-1/phone-7"}""", HttpStatusCode.Conflict, "draining");
        Assert.Contains("/lab/rack-1", Detail(problem), StringComparison.Ordinal);
        var resource = await GetJsonAsync("/v1/resources/lab/rack-1/phone-7");
        Assert.Equal("/lab/rack-1", resource.GetProperty("drained").GetProperty("path").GetString());
        Assert.False((await GetJsonAsync("/v1/resources/lab/rack-2")).TryGetProperty("drained", out _));
        await ReleaseOkAsync(await AcquireOkAsync("""{"path":"/lab/rack-2"}"""));

        // Draining again changes nothing (200, the drain as it was); the listing has it once.
        var again = await DrainAsync("/lab/rack-1", HttpStatusCode.OK);
        Assert.Equal(drain.GetProperty("since").GetString(), again.GetProperty("since").GetString());
        var drains = (await GetJsonAsync("/v1/admin/drains")).GetProperty("drains");
        Assert.Equal(["/lab/rack-1"], drains.EnumerateArray().Select(d => d.GetProperty("path").GetString()));
    }

    [Fact]
    public async Task A_queued_waiter_is_granted_on_undrain()
    {
        var held = await AcquireOkAsync("""{"path":"/lab/rack-1/phone-7","ttl":600}""");
        await DrainAsync("/lab/rack-1");
        using var waiting = AcquireAsync("""{"path":"/lab/rack-1/phone-7","owner":"after-maintenance","wait":30}""");
        await WaitUntilAsync(async () => await QueueLengthAsync("/lab/rack-1/phone-7") == 1, "the request waits");

        // The holder runs out normally; the drain still keeps the waiter back.
        await ReleaseOkAsync(held);
        Assert.Equal(1, await QueueLengthAsync("/lab/rack-1/phone-7"));
        Assert.False(waiting.IsCompleted);

        var undrained = await UndrainAsync("/lab/rack-1");
        Assert.Equal("/lab/rack-1", undrained.GetProperty("path").GetString());
        var granted = await ReadJsonAsync(await Bounded(waiting), HttpStatusCode.Created);
        Assert.Equal("after-maintenance", granted.GetProperty("owner").GetString());
        Assert.True(granted.GetProperty("fence").GetInt64() > held.GetProperty("fence").GetInt64());
        Assert.Equal(0, (await GetJsonAsync("/v1/admin/drains")).GetProperty("drains").GetArrayLength());
    }

    [Fact]
    public async Task Undraining_what_is_not_drained_is_not_found_and_a_bad_path_is_invalid()
    {
        using (var response = await SendAsync(HttpMethod.Delete, "/v1/admin/drains/lab"))
        {
            await AssertProblemAsync(response, HttpStatusCode.NotFound, "not-found");
        }
        using (var response = await SendAsync(HttpMethod.Put, "/v1/admin/drains/lab/%2F"))
        {
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-path");
        }
        Assert.Equal(0, (await GetJsonAsync("/v1/admin/drains")).GetProperty("drains").GetArrayLength());
        await ReleaseOkAsync(await AcquireOkAsync("""{"path":"/lab"}"""));
    }

    [Fact]
    public async Task A_pool_request_picks_another_resource_than_a_drained_one()
    {
        await DeclareAsync("/phones/a", """{"os":"android"}""");
        await DeclareAsync("/phones/b", """{"os":"android"}""");
        await DrainAsync("/phones/a");

        var lease = await AcquireOkAsync("""{"pool":"/phones","require":{"os":"android"}}""");
        Assert.Equal(["/phones/b"], Paths(lease));
        await AcquireFailsAsync("""{"pool":"/phones","require":{"os":"android"}}""", HttpStatusCode.Conflict, "draining");
    }

    [Fact]
    public async Task Drains_survive_a_restart()
    {
        await DrainAsync("/lab/rack-1");

        await RestartAsync();

        var drain = Assert.Single((await GetJsonAsync("/v1/admin/drains")).GetProperty("drains").EnumerateArray());
        Assert.Equal("/lab/rack-1", drain.GetProperty("path").GetString());
        await AcquireFailsAsync("""{"path":"/lab/rack-1"}""", HttpStatusCode.Conflict, "draining");
    }

    [Fact]
    public async Task Listings_filter_by_owner_prefix_and_age_and_never_show_tokens()
    {
        var a = await AcquireOkAsync("""{"path":"/x/1","owner":"alpha"}""");
        var b = await AcquireOkAsync("""{"path":"/y/1","owner":"beta"}""");
        using var opened = await SendAsync(HttpMethod.Post, "/v1/sessions", """{"ttl":60,"owner":"alpha"}""");
        await ReadJsonAsync(opened, HttpStatusCode.Created);

        var all = await GetJsonAsync("/v1/admin/leases");
        Assert.Equal([Id(a), Id(b)], all.GetProperty("leases").EnumerateArray().Select(Id));
        Assert.All(all.GetProperty("leases").EnumerateArray(), l => Assert.False(l.TryGetProperty("token", out _)));
        Assert.Equal([Id(a)], (await GetJsonAsync("/v1/admin/leases?owner=alpha")).GetProperty("leases").EnumerateArray().Select(Id));
        Assert.Equal([Id(b)], (await GetJsonAsync("/v1/admin/leases?prefix=/y")).GetProperty("leases").EnumerateArray().Select(Id));
        Assert.Equal(0, (await GetJsonAsync("/v1/admin/leases?minAgeMs=3600000")).GetProperty("leases").GetArrayLength());
        Assert.Equal(0, (await GetJsonAsync("/v1/admin/leases?principal=someone")).GetProperty("leases").GetArrayLength());
        var one = await GetJsonAsync("/v1/admin/leases?limit=1");
        Assert.True(one.GetProperty("truncated").GetBoolean());

        var sessions = await GetJsonAsync("/v1/admin/sessions?owner=alpha");
        var session = Assert.Single(sessions.GetProperty("sessions").EnumerateArray());
        Assert.False(session.TryGetProperty("token", out _));
        Assert.Equal(0, (await GetJsonAsync("/v1/admin/sessions?owner=beta")).GetProperty("sessions").GetArrayLength());

        foreach (var bad in new[] { "/v1/admin/leases?limit=0", "/v1/admin/leases?minAgeMs=-5", "/v1/admin/sessions?limit=x" })
        {
            using var response = await GetAsync(bad);
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-argument");
        }
        using var badPrefix = await GetAsync("/v1/admin/leases?prefix=nope");
        await AssertProblemAsync(badPrefix, HttpStatusCode.BadRequest, "invalid-path");
    }
}

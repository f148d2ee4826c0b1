using System.Net;
using System.Text.Json;
using Leasehold.Server.Events;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Server.Tests.Events;

/// <summary>GET /v1/events on a real server: what each change sends, filtering, reconnecting, and the bounds.</summary>
public class EventStreamTests : ServerTestBase
{
    private EventHub Hub => Server.App.Services.GetRequiredService<EventHub>();

    [Fact]
    public async Task Every_event_type_comes_with_its_fields_for_a_real_sequence_of_calls()
    {
        await using var stream = await SseStream.OpenAsync(Server.CreateClient(), "/v1/events?snapshot=true");
        var snapshot = await stream.NextEventAsync();
        Assert.Equal("snapshot", snapshot.Event);
        var start = snapshot.Revision;
        Assert.Equal(start.ToString(System.Globalization.CultureInfo.InvariantCulture), snapshot.Id);

        // A session, a lease in it, renewed.
        var session = await ReadJsonAsync(await PostAsync("/v1/sessions", """{"ttl": 30, "owner": "svc"}"""), HttpStatusCode.Created);
        var sessionId = session.GetProperty("id").GetInt64();
        var sessionToken = session.GetProperty("token").GetString()!;
        var first = await AcquireOkAsync($$"""{"path": "/lab/a", "owner": "first", "ttl": 60, "session": {{sessionId}}}""");
        using (var renew = await SendAsync(HttpMethod.Post, $"/v1/leases/{first.Id}/renew", first.Token, """{"ttl": 90}"""))
        {
            Assert.Equal(HttpStatusCode.OK, renew.StatusCode);
        }
        // A waiter, granted when the lease is released.
        var waiting = AcquireAsync("""{"path": "/lab/a", "owner": "second", "wait": 30}""");
        await WaitForQueueAsync("/lab/a", 1);
        await ReleaseOkAsync(first);
        var second = ToHeld(await ReadJsonAsync(await Bounded(waiting), HttpStatusCode.Created));
        // Revoked by an administrator.
        using (var revoke = await SendAsync(HttpMethod.Delete, $"/v1/admin/leases/{second.Id}", null))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }
        // Declared, removed, drained, undrained.
        using (var declare = await SendAsync(HttpMethod.Put, "/v1/resources/pool/r1", null, """{"os": "android"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, declare.StatusCode);
        }
        using (var remove = await SendAsync(HttpMethod.Delete, "/v1/resources/pool/r1", null))
        {
            Assert.True(remove.IsSuccessStatusCode);
        }
        using (var drain = await SendAsync(HttpMethod.Put, "/v1/admin/drains/lab", null))
        {
            Assert.Equal(HttpStatusCode.Created, drain.StatusCode);
        }
        using (var undrain = await SendAsync(HttpMethod.Delete, "/v1/admin/drains/lab", null))
        {
            Assert.Equal(HttpStatusCode.OK, undrain.StatusCode);
        }
        // A lease of the session ends with it; a wait runs out; a lease expires.
        await AcquireOkAsync($$"""{"path": "/lab/b", "owner": "third", "session": {{sessionId}}}""");
        using (var close = await SendAsync(HttpMethod.Delete, $"/v1/sessions/{sessionId}", sessionToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, close.StatusCode);
        }
        var blocker = await AcquireOkAsync("""{"path": "/lab/c", "owner": "blocker"}""");
        using (var timedOut = await AcquireAsync("""{"path": "/lab/c", "owner": "patient", "wait": 0.05}"""))
        {
            Assert.Equal(HttpStatusCode.Conflict, timedOut.StatusCode);
        }
        await ReleaseOkAsync(blocker);
        await AcquireOkAsync("""{"path": "/lab/d", "owner": "brief", "ttl": 0.05}""");

        var events = new List<SseMessage>();
        for (var i = 0; i < 40; i++)
        {
            var e = await stream.NextEventAsync();
            events.Add(e);
            if (e.Event == "released" && e.Json.GetProperty("reason").GetString() == "expired")
            {
                break;
            }
        }
        // Revisions grow by one (nothing is filtered at the root), and no token is ever sent.
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => start + i), events.Select(e => e.Revision));
        Assert.All(events, e => Assert.Equal(e.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Id));
        Assert.All(events, e => Assert.DoesNotContain("token", e.Data!, StringComparison.OrdinalIgnoreCase));
        Assert.All(events, e => Assert.Equal(e.Event, e.Json.GetProperty("type").GetString()));
        var described = events.Select(Describe).ToList();
        Assert.Equal(
        [
            "session-opened svc",
            "granted first /lab/a",
            "renewed first 90",
            "queued second /lab/a",
            "released first released",
            "dequeued second granted",
            "granted second /lab/a",
            "released second revoked anonymous",
            "declared /pool/r1 android",
            "removed /pool/r1",
            "drained /lab anonymous",
            "undrained /lab anonymous",
            "granted third /lab/b",
            "session-ended svc closed leases=1",
            "released third session-ended",
            "granted blocker /lab/c",
            "queued patient /lab/c",
            "dequeued patient timeout",
            "released blocker released",
            "granted brief /lab/d",
            "released brief expired",
        ], described);

        var granted = events[6].Json;
        Assert.True(granted.GetProperty("waited").GetDouble() > 0);
        Assert.Equal(second.Fence, granted.GetProperty("lease").GetProperty("fence").GetInt64());
        Assert.True(events[4].Json.GetProperty("held").GetDouble() >= 0);
        Assert.Equal(sessionId, events[0].Json.GetProperty("session").GetProperty("id").GetInt64());
        Assert.Equal(JsonValueKind.String, events[3].Json.GetProperty("waiter").GetProperty("since").ValueKind);
        // The time is the command's: ISO 8601 with an offset.
        Assert.All(events, e => Assert.True(DateTimeOffset.TryParse(e.Json.GetProperty("at").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _)));
    }

    private static string Describe(SseMessage e)
    {
        var json = e.Json;
        string Owner(string field) => json.GetProperty(field).GetProperty("owner").GetString() ?? "-";
        string Paths(string field) => string.Join(",", json.GetProperty(field).GetProperty("paths").EnumerateArray().Select(p => p.GetString()));
        return e.Event switch
        {
            "granted" => $"granted {Owner("lease")} {Paths("lease")}",
            "renewed" => $"renewed {Owner("lease")} {json.GetProperty("lease").GetProperty("ttl").GetDouble()}",
            "released" => $"released {Owner("lease")} {json.GetProperty("reason").GetString()}" + (json.TryGetProperty("endedBy", out var by) ? " " + by.GetString() : ""),
            "queued" => $"queued {Owner("waiter")} {Paths("waiter")}",
            "dequeued" => $"dequeued {Owner("waiter")} {json.GetProperty("reason").GetString()}",
            "session-opened" => $"session-opened {Owner("session")}",
            "session-ended" => $"session-ended {Owner("session")} {json.GetProperty("reason").GetString()} leases={json.GetProperty("session").GetProperty("leases").GetInt32()}",
            "declared" => $"declared {json.GetProperty("path").GetString()} {json.GetProperty("attributes").GetProperty("os").GetString()}",
            "removed" => $"removed {json.GetProperty("path").GetString()}",
            _ => $"{e.Event} {json.GetProperty("path").GetString()} {json.GetProperty("actor").GetString()}",
        };
    }

    [Fact]
    public async Task A_prefix_gets_only_the_events_under_it()
    {
        await using var lab = await SseStream.OpenAsync(Server.CreateClient(), "/v1/events?prefix=/lab");
        await using var all = await SseStream.OpenAsync(Server.CreateClient(), "/v1/events");
        using (var session = await PostAsync("/v1/sessions", """{"ttl": 30}"""))
        {
            Assert.Equal(HttpStatusCode.Created, session.StatusCode);
        }
        var other = await AcquireOkAsync("""{"path": "/office/printer", "owner": "elsewhere"}""");
        var both = await AcquireOkAsync("""{"paths": ["/office/desk", "/lab/rig"], "owner": "both"}""");
        var inside = await AcquireOkAsync("""{"path": "/lab/rig-2/port", "owner": "inside"}""");
        await ReleaseOkAsync(other);
        await ReleaseOkAsync(inside);

        var seen = await lab.ReadUntilAsync("released");
        Assert.Equal(["granted both", "granted inside", "released inside"],
            seen.Select(e => $"{e.Event} {e.Json.GetProperty("lease").GetProperty("owner").GetString()}"));
        // The whole tree's stream had them all, the session's included: the revisions in between were filtered out.
        var everything = await all.ReadThroughAsync(seen[^1].Revision);
        Assert.Equal(["session-opened", "granted", "granted", "granted", "released", "released"], everything.Select(e => e.Event));
        Assert.Equal(seen.Select(e => e.Revision), everything.Where(e => seen.Any(s => s.Revision == e.Revision)).Select(e => e.Revision));
    }

    [Fact]
    public async Task Last_event_id_replays_exactly_the_missed_events()
    {
        await using var witness = await SseStream.OpenAsync(Server.CreateClient(), "/v1/events?prefix=/lab");
        long lastSeen;
        await using (var early = await SseStream.OpenAsync(Server.CreateClient(), "/v1/events?prefix=/lab"))
        {
            await AcquireOkAsync("""{"path": "/lab/one"}""");
            lastSeen = (await early.NextEventAsync()).Revision;
        }
        var two = await AcquireOkAsync("""{"path": "/lab/two"}""");
        await AcquireOkAsync("""{"path": "/elsewhere/x"}""");
        await ReleaseOkAsync(two);
        var three = await AcquireOkAsync("""{"path": "/lab/three"}""");

        var expected = new List<SseMessage>();
        for (var i = 0; i < 4; i++)
        {
            expected.Add(await witness.NextEventAsync());
        }
        Assert.Equal(lastSeen, expected[0].Revision);
        await using var resumed = await SseStream.OpenAsync(Server.CreateClient(), "/v1/events?prefix=/lab", lastEventId: lastSeen);
        var missed = new List<SseMessage>();
        for (var i = 0; i < 3; i++)
        {
            missed.Add(await resumed.NextEventAsync());
        }
        Assert.Equal(expected.Skip(1).Select(e => (e.Id, e.Event, e.Data)), missed.Select(e => (e.Id, e.Event, e.Data)));
        Assert.Equal(three.Fence, missed[^1].Json.GetProperty("lease").GetProperty("fence").GetInt64());
        // And live events follow, with no reset and no snapshot in between.
        await AcquireOkAsync("""{"path": "/lab/four"}""");
        Assert.Equal("granted", (await resumed.NextEventAsync()).Event);
    }

    [Fact]
    public async Task The_after_parameter_resumes_as_the_header_does_and_the_header_wins()
    {
        var one = await AcquireOkAsync("""{"path": "/lab/one"}""");
        await ReleaseOkAsync(one);
        var revision = Hub.Revision;
        Assert.Equal(2, revision);
        await using var fromQuery = await SseStream.OpenAsync(Server.CreateClient(), "/v1/events?after=1");
        var next = await fromQuery.NextEventAsync();
        Assert.Equal(("2", "released"), (next.Id, next.Event));
        await using var headerWins = await SseStream.OpenAsync(Server.CreateClient(), "/v1/events?after=0", lastEventId: 1);
        Assert.Equal("2", (await headerWins.NextEventAsync()).Id);
        using var bad = await SseStream.SendAsync(Server.CreateClient(), "/v1/events?after=-3");
        await AssertProblemAsync(bad, HttpStatusCode.BadRequest, "invalid-argument");
    }

    [Fact]
    public async Task An_id_the_server_cannot_serve_gets_a_reset_then_a_snapshot_then_live_events()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Events:History=4", "--Leasehold:Durability=memory"]);
        var hub = server.App.Services.GetRequiredService<EventHub>();
        // Memory mode starts its revision at the start's time in microseconds: every id below is relative to it.
        var start = hub.Revision;
        var api = new Api(server.Client);
        var kept = await api.AcquireAsync("/lab/kept", null, "keeper");
        for (var i = 0; i < 5; i++)
        {
            var lease = await api.AcquireAsync("/lab/churn", null);
            using var release = await api.SendAsync(HttpMethod.Delete, $"/v1/leases/{lease.Id}", lease.Token);
        }
        Assert.Equal(start + 11, hub.Revision);
        foreach (var lastEventId in new long[] { start + 1, start + 12, start + 1000, 1 })
        {
            await using var stream = await SseStream.OpenAsync(server.CreateClient(), "/v1/events?prefix=/lab", lastEventId);
            var reset = await stream.NextEventAsync();
            Assert.Equal("reset", reset.Event);
            Assert.Null(reset.Id);
            var snapshot = await stream.NextEventAsync();
            Assert.Equal(("snapshot", start + 11), (snapshot.Event, snapshot.Revision));
            Assert.Equal((start + 11).ToString(System.Globalization.CultureInfo.InvariantCulture), snapshot.Id);
            var holders = snapshot.Json.GetProperty("holders").EnumerateArray().ToList();
            Assert.Equal([kept.Id], holders.Select(h => h.GetProperty("id").GetInt64()));
            Assert.False(holders[0].TryGetProperty("token", out _));
        }
        // An id the history still covers (the last four events and the revision before them) is served without a reset.
        await using var resumed = await SseStream.OpenAsync(server.CreateClient(), "/v1/events?prefix=/lab", start + 7);
        var replayed = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            replayed.Add((await resumed.NextEventAsync()).Revision - start);
        }
        Assert.Equal([8L, 9, 10, 11], replayed);
        await using var tooOld = await SseStream.OpenAsync(server.CreateClient(), "/v1/events?prefix=/lab", start + 6);
        Assert.Equal("reset", (await tooOld.NextEventAsync()).Event);
    }

    [Fact]
    public async Task The_revision_goes_on_after_a_restart_and_an_id_of_before_it_loses_nothing()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "leasehold-events-" + Guid.NewGuid().ToString("N"));
        try
        {
            long before;
            await using (var first = await TestServer.StartAsync([], dataDir))
            {
                var api = new Api(first.Client);
                await api.AcquireAsync("/lab/a", 60, "holder");
                var b = await api.AcquireAsync("/lab/b", null);
                using var release = await api.SendAsync(HttpMethod.Delete, $"/v1/leases/{b.Id}", b.Token);
                before = first.App.Services.GetRequiredService<EventHub>().Revision;
                Assert.Equal(3, before);
            }
            await using var second = await TestServer.StartAsync([], dataDir);
            // The restart renewed the lease with a ttl (its holder could not renew while the server was down): an event.
            await using var resumed = await SseStream.OpenAsync(second.CreateClient(), "/v1/events", before);
            var renewed = await resumed.NextEventAsync();
            Assert.Equal(("4", "renewed"), (renewed.Id, renewed.Event));
            await new Api(second.Client).AcquireAsync("/lab/c", null);
            Assert.Equal(("5", "granted"), (await resumed.NextEventAsync() is var g ? (g.Id, g.Event) : default));
            await using var fresh = await SseStream.OpenAsync(second.CreateClient(), "/v1/events?snapshot=true");
            Assert.Equal("5", (await fresh.NextEventAsync()).Id);
        }
        finally
        {
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }

    [Fact]
    public async Task A_snapshot_lists_the_drains_that_concern_its_prefix_and_says_truncated_beyond_its_limit()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Events:SnapshotLimit=3", "--Leasehold:Durability=memory"]);
        var api = new Api(server.Client);
        foreach (var path in new[] { "/lab", "/lab/rack-2/deep", "/elsewhere" })
        {
            using var drained = await api.SendAsync(HttpMethod.Put, "/v1/admin/drains" + path, null);
            Assert.Equal(HttpStatusCode.Created, drained.StatusCode);
        }
        await using (var stream = await SseStream.OpenAsync(server.CreateClient(), "/v1/events?prefix=/lab/rack-2&snapshot=true"))
        {
            var snapshot = await stream.NextEventAsync();
            Assert.Equal("snapshot", snapshot.Event);
            // Above the prefix (it stops every grant under it) and under it; not beside it.
            Assert.Equal(["/lab", "/lab/rack-2/deep"], snapshot.Json.GetProperty("drains").EnumerateArray().Select(d => d.GetProperty("path").GetString()));
            Assert.Equal("anonymous", snapshot.Json.GetProperty("drains")[0].GetProperty("actor").GetString());
            Assert.True(snapshot.Json.GetProperty("drains")[0].TryGetProperty("since", out _));
            Assert.False(snapshot.Json.TryGetProperty("truncated", out _));
        }
        for (var i = 0; i < 4; i++)
        {
            await api.AcquireAsync($"/free/{i}", null);
        }
        await using (var stream = await SseStream.OpenAsync(server.CreateClient(), "/v1/events?prefix=/free&snapshot=true"))
        {
            var snapshot = await stream.NextEventAsync();
            Assert.Equal(3, snapshot.Json.GetProperty("holders").GetArrayLength());
            Assert.True(snapshot.Json.GetProperty("truncated").GetBoolean());
            Assert.Empty(snapshot.Json.GetProperty("drains").EnumerateArray());
        }
    }

    [Fact]
    public async Task The_history_is_bounded_by_bytes_too_so_large_declared_events_push_old_ones_out()
    {
        // Room for a thousand events, but not for three of 48 KiB attributes in 256 KiB.
        await using var server = await TestServer.StartAsync(["--Leasehold:Events:History=1000", "--Leasehold:Events:HistoryBytes=262144", "--Leasehold:Durability=memory"]);
        var hub = server.App.Services.GetRequiredService<EventHub>();
        var start = hub.Revision;
        var api = new Api(server.Client);
        var attributes = "{\"blob\": \"" + new string('x', 48 * 1024) + "\"}";
        for (var i = 0; i < 3; i++)
        {
            using var response = await api.SendAsync(HttpMethod.Put, $"/v1/resources/lab/big-{i}", null, attributes);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(start + 3, hub.Revision);
        await using (var tooOld = await SseStream.OpenAsync(server.CreateClient(), "/v1/events?prefix=/lab", start))
        {
            Assert.Equal("reset", (await tooOld.NextEventAsync()).Event);
            Assert.Equal(3, (await tooOld.NextEventAsync()).Json.GetProperty("resources").GetArrayLength());
        }
        // The newest is kept: a client one event behind gets it from the history.
        await using var behind = await SseStream.OpenAsync(server.CreateClient(), "/v1/events?prefix=/lab", start + 2);
        var kept = await behind.NextEventAsync();
        Assert.Equal(("declared", start + 3), (kept.Event, kept.Revision));
    }

    [Fact]
    public async Task Keep_alive_comments_fill_the_silence()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Events:KeepAliveSeconds=0.2", "--Leasehold:Durability=memory"]);
        await using var stream = await SseStream.OpenAsync(server.CreateClient(), "/v1/events");
        Assert.Equal("keep-alive", (await stream.NextAsync()).Comment);
        Assert.Equal("keep-alive", (await stream.NextAsync()).Comment);
    }

    [Fact]
    public async Task Stopping_the_server_ends_streams_with_cut_off()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Durability=memory"]);
        using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TestServer.Timeout };
        var stream = await SseStream.OpenAsync(client, "/v1/events");
        try
        {
            await new Api(server.Client).AcquireAsync("/lab/a", null);
            var granted = await stream.NextEventAsync();
            Assert.Equal("granted", granted.Event);
            using (var cts = new CancellationTokenSource(TestServer.Timeout))
            {
                await server.App.StopAsync(cts.Token);
            }
            var last = await stream.NextEventAsync();
            Assert.Equal("cut-off", last.Event);
            Assert.Equal(("shutting-down", granted.Revision), (last.Json.GetProperty("reason").GetString(), last.Revision));
            Assert.True(await stream.EndsWithinAsync(TestServer.Timeout));
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }

    [Fact]
    public async Task Waiters_dropped_by_a_stop_are_dequeued_at_the_time_of_the_stop()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Durability=memory"]);
        using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TestServer.Timeout };
        await using var stream = await SseStream.OpenAsync(client, "/v1/events?prefix=/lab");
        var api = new Api(server.Client);
        await api.AcquireAsync("/lab/a", null);
        Assert.Equal("granted", (await stream.NextEventAsync()).Event);
        var waiting = api.SendAsync(HttpMethod.Post, "/v1/leases", null, """{"path": "/lab/a", "wait": 30}""");
        Assert.Equal("queued", (await stream.NextEventAsync()).Event);
        var before = DateTimeOffset.UtcNow.AddSeconds(-5);
        using (var cts = new CancellationTokenSource(TestServer.Timeout))
        {
            await server.App.StopAsync(cts.Token);
        }
        var dequeued = await stream.NextEventAsync();
        Assert.Equal(("dequeued", "shutting-down"), (dequeued.Event, dequeued.Json.GetProperty("reason").GetString()));
        Assert.True(dequeued.Json.GetProperty("at").GetDateTimeOffset() >= before, $"stamped {dequeued.Json.GetProperty("at")}");
        using var answer = await waiting;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
    }

    [Fact]
    public async Task Beyond_max_streams_a_stream_is_refused_with_503_too_many_streams()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Events:MaxStreams=2", "--Leasehold:Durability=memory"]);
        var hub = server.App.Services.GetRequiredService<EventHub>();
        var one = await SseStream.OpenAsync(server.CreateClient(), "/v1/events");
        await using var two = await SseStream.OpenAsync(server.CreateClient(), "/v1/events?prefix=/lab&snapshot=true");
        using (var third = await SseStream.SendAsync(server.CreateClient(), "/v1/events"))
        {
            await HttpAssert.AssertProblemAsync(third, HttpStatusCode.ServiceUnavailable, "too-many-streams");
            Assert.Equal("1", third.Headers.GetValues("Retry-After").Single());
        }
        Assert.Equal(2, hub.OpenStreams);
        await one.DisposeAsync();
        await WaitUntilAsync(() => Task.FromResult(hub.OpenStreams == 1), "the closed stream's place is free");
        await using var again = await SseStream.OpenAsync(server.CreateClient(), "/v1/events");
        await new Api(server.Client).AcquireAsync("/lab/a", null);
        Assert.Equal("granted", (await again.NextEventAsync()).Event);
    }
}

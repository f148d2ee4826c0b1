using Leasehold.Server.Engine;
using Leasehold.Server.Events;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Server.Tests.Events;

/// <summary>An event id names one event for good (docs/events.md, reconnecting): across memory-mode runs, and across a crash under the interval policy.</summary>
public sealed class RevisionHistoryTests
{
    [Fact]
    public async Task A_memory_mode_server_started_again_answers_an_id_of_its_earlier_run_with_a_reset()
    {
        long seen;
        var started = DateTimeOffset.UtcNow;
        await using (var first = await TestServer.StartAsync(["--Leasehold:Durability=memory"]))
        {
            var api = new Api(first.Client);
            await api.AcquireAsync("/lab/a", null);
            await api.AcquireAsync("/lab/b", null);
            seen = first.App.Services.GetRequiredService<EventHub>().Revision;
            // The revision started at the start's time in microseconds, not at 0.
            Assert.True(seen > (started - DateTimeOffset.UnixEpoch).Ticks / 10, $"revision {seen}");
        }
        await using var second = await TestServer.StartAsync(["--Leasehold:Durability=memory"]);
        var again = new Api(second.Client);
        // More events than the first run had: with revisions from 0 again, the old id would look like one of these.
        for (var i = 0; i < 4; i++)
        {
            await again.AcquireAsync($"/lab/{i}", null);
        }
        Assert.True(second.App.Services.GetRequiredService<EventHub>().Revision > seen);
        await using var stream = await SseStream.OpenAsync(second.CreateClient(), "/v1/events?prefix=/lab", seen);
        Assert.Equal("reset", (await stream.NextEventAsync()).Event);
        var snapshot = await stream.NextEventAsync();
        Assert.Equal("snapshot", snapshot.Event);
        Assert.Equal(4, snapshot.Json.GetProperty("holders").GetArrayLength());
    }

    [Fact]
    public async Task Under_the_interval_policy_an_event_is_published_only_once_the_fsync_covering_it_is_done()
    {
        // A long interval: the batch below is answered long before its fsync.
        await using var server = await TestServer.StartAsync(["--Leasehold:Durability=interval", "--Leasehold:FsyncIntervalMs=3000"]);
        var hub = server.App.Services.GetRequiredService<EventHub>();
        var host = server.App.Services.GetRequiredService<EngineHost>();
        var api = new Api(server.Client);
        await using var stream = await SseStream.OpenAsync(server.CreateClient(), "/v1/events?prefix=/lab");
        await api.AcquireAsync("/lab/first", null);
        // Published after its fsync (at once, or at the end of the interval): the next write comes within the interval.
        var first = await stream.NextEventAsync();
        var syncs = host.Syncs;

        var second = await api.AcquireAsync("/lab/second", null);
        Assert.Equal(first.Revision, hub.Revision);
        var published = await stream.NextEventAsync();
        Assert.Equal(("granted", second.Id), (published.Event, published.Json.GetProperty("lease").GetProperty("id").GetInt64()));
        Assert.Equal(first.Revision + 1, published.Revision);
        Assert.True(host.Syncs > syncs, "published before an fsync");

        // A snapshot waits for its revision's fsync too: the snapshot's id is never one a crash could reissue.
        await api.AcquireAsync("/lab/third", null);
        var syncsBeforeSnapshot = host.Syncs;
        await using var fresh = await SseStream.OpenAsync(server.CreateClient(), "/v1/events?prefix=/lab&snapshot=true");
        var snapshot = await fresh.NextEventAsync();
        Assert.Equal(("snapshot", first.Revision + 2), (snapshot.Event, snapshot.Revision));
        Assert.True(host.Syncs > syncsBeforeSnapshot, "a snapshot sent before its fsync");
    }
}

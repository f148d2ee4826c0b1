using System.Diagnostics;
using Leasehold.Protocol;

namespace Leasehold.Client.Tests;

/// <summary>
/// <see cref="LeaseholdClient.WatchAsync"/> against the real server, whose streams buffer one event only: a burst of
/// events cuts a stream off, and the client must resume without a gap.
/// </summary>
public abstract class WatchTests : ContractTestBase
{
    // Keep-alive comments every 0.2 s of silence: an HTTP watch takes 5.4 s of silence for a lost stream.
    protected override string[] ServerArgs => ["--Leasehold:Events:Buffer=1", "--Leasehold:Events:KeepAliveSeconds=0.2"];

    /// <summary>A client that waits out a restart: retries enough for the server to come back.</summary>
    private LeaseholdClient Client() => CreateClient(o =>
    {
        o.Retries = 100;
        o.RetryTimeout = ClientTestServer.Timeout;
    });

    [Fact]
    public async Task The_events_of_a_real_sequence_arrive_in_order()
    {
        var client = Client();
        await using var events = client.WatchAsync("/watch", new WatchOptions { Snapshot = true }).GetAsyncEnumerator();
        var snapshot = await NextAsync(events);
        Assert.True(snapshot.IsSnapshot);
        Assert.Empty(snapshot.Holders!);

        var holder = await Bounded(client.AcquireAsync(PathOptions("/watch/a", 30) with { Owner = "first" }));
        var waiting = client.AcquireAsync(PathOptions("/watch/a", 30) with { Owner = "second", Wait = TimeSpan.FromSeconds(15) });
        var queued = await NextAsync(events, skip: EventTypes.Granted);
        Assert.Equal((EventTypes.Queued, "second"), (queued.Type, queued.Waiter!.Owner));
        await holder.DisposeAsync();
        await using var second = await Bounded(waiting);

        var seen = new List<LeaseholdEvent> { queued };
        while (seen[^1].Type != EventTypes.Granted)
        {
            Assert.True(seen.Count < 10, $"no grant among {string.Join(", ", seen.Select(e => e.Type))}");
            seen.Add(await NextAsync(events));
        }
        Assert.Equal([EventTypes.Queued, EventTypes.Released, EventTypes.Dequeued, EventTypes.Granted], seen.Select(e => e.Type));
        Assert.Equal(("first", "released"), (seen[1].Lease!.Owner, seen[1].Reason));
        Assert.Equal(("second", second.Fence), (seen[3].Lease!.Owner, seen[3].Lease!.Fence));
        Assert.Equal(["/watch/a"], seen[3].Paths);
        Assert.Equal(Enumerable.Range(0, 4).Select(i => queued.Revision + i), seen.Select(e => e.Revision));
        Assert.Contains("\"type\":\"granted\"", seen[3].Json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stream_cut_off_by_the_server_resumes_with_no_gap()
    {
        var client = Client();
        await using var events = client.WatchAsync("/", new WatchOptions { Snapshot = true }).GetAsyncEnumerator();
        var start = (await NextAsync(events)).Revision;
        // Bursts of events decided by one command each (released, dequeued, granted) overflow a buffer of one, until a cut-off.
        var bursts = 0;
        for (; bursts < 20 && Server.Events.CutOffs == 0; bursts++)
        {
            var holder = await Bounded(client.AcquireAsync(PathOptions($"/burst/{bursts}", 30)));
            var waiting = client.AcquireAsync(PathOptions($"/burst/{bursts}", 30) with { Wait = TimeSpan.FromSeconds(15) });
            await WaitUntilAsync(async () => (await Server.StatsAsync()).Waiters == 1, "the second acquire waits");
            await holder.DisposeAsync();
            await (await Bounded(waiting)).DisposeAsync();
        }
        Assert.True(Server.Events.CutOffs > 0, $"no stream was cut off in {bursts} bursts");
        var last = Server.Events.Revision;
        var revisions = new List<long>();
        var clock = Stopwatch.StartNew();
        while (revisions.Count == 0 || revisions[^1] < last)
        {
            Assert.True(revisions.Count < 1000 && clock.Elapsed < ClientTestServer.Timeout, $"revision {last} not reached: {string.Join(", ", revisions)}");
            var e = await NextAsync(events);
            Assert.False(e.IsReset, "the history kept every event: no reset");
            revisions.Add(e.Revision);
        }
        Assert.Equal(Enumerable.Range(1, revisions.Count).Select(i => start + i), revisions);
    }

    [Fact]
    public async Task A_server_restart_is_resumed_with_no_gap_or_an_explicit_reset()
    {
        var client = Client();
        await using var events = client.WatchAsync("/").GetAsyncEnumerator();
        // The stream starts once the enumeration asks for its first event: the lease is taken after that.
        var first = NextAsync(events);
        await WaitUntilAsync(() => Task.FromResult(Server.Events.OpenStreams == 1), "the stream is open");
        await using (var lease = await Bounded(client.AcquireAsync(PathOptions("/restart/a", 60))))
        {
            var granted = await first;
            Assert.Equal(EventTypes.Granted, granted.Type);

            await Server.RestartAsync();
            await using var after = await Bounded(client.AcquireAsync(PathOptions("/restart/b", 60)));
            var next = await NextAsync(events);
            if (next.IsReset)
            {
                // Told explicitly: the state comes next.
                var state = await NextAsync(events);
                Assert.True(state.IsSnapshot);
                Assert.Contains(state.Holders!, l => l.Paths.SequenceEqual(["/restart/a"]));
                return;
            }
            // No gap: the restart renewed the ttl lease, then the new grant, every revision after the last one seen.
            var revisions = new List<long> { next.Revision };
            var types = new List<string> { next.Type };
            while (types[^1] != EventTypes.Granted)
            {
                // Bounded: the leases' own renewals (every 20 s) would keep an unbounded loop going.
                Assert.True(types.Count < 5, string.Join(", ", types.Zip(revisions)));
                var e = await NextAsync(events);
                revisions.Add(e.Revision);
                types.Add(e.Type);
            }
            Assert.True(granted.Revision + 1 == revisions[0], string.Join(", ", types.Zip(revisions)));
            Assert.True(Enumerable.Range(0, revisions.Count).Select(i => revisions[0] + i).SequenceEqual(revisions), string.Join(", ", types.Zip(revisions)));
            Assert.Equal([EventTypes.Renewed, EventTypes.Granted], types);
        }
    }

    [Fact]
    public async Task A_stream_gone_silent_is_taken_for_lost_and_resumed_with_no_gap()
    {
        // A connection that dies without a reset (a dead proxy, a partition) leaves the reader with silence only: over HTTP
        // the server's keep-alive interval tells how much silence is too much, over the native protocol the heartbeat does.
        var (relay, client) = ClientThroughRelay(o =>
        {
            o.ConnectTimeout = TimeSpan.FromSeconds(1);
            o.Retries = 100;
            o.RetryTimeout = ClientTestServer.Timeout;
        });
        await using var proxy = relay;
        await using var events = client.WatchAsync("/silent").GetAsyncEnumerator();
        var first = NextAsync(events);
        await WaitUntilAsync(() => Task.FromResult(Server.Events.OpenStreams == 1), "the stream is open");
        // Frozen once the stream's answer has begun (its headers, or the native handshake, came through).
        await WaitUntilAsync(() => Task.FromResult(proxy.BytesFromServer > 0), "the server's first bytes reached the client");
        Assert.Equal(1, proxy.FreezeOpenConnections());

        await using var lease = await Bounded(CreateClient().AcquireAsync(PathOptions("/silent/a", 60)));
        var clock = Stopwatch.StartNew();
        var granted = await first;
        Assert.Equal((EventTypes.Granted, lease.Fence), (granted.Type, granted.Lease!.Fence));
        // The frozen connection could not bring it: the client gave up on it and resumed over a new one.
        Assert.True(proxy.Connections >= 2, $"{proxy.Connections} connection(s) through the proxy, after {clock.Elapsed}");
    }

    [Fact]
    public async Task A_caller_slow_to_handle_an_event_does_not_make_its_stream_count_as_silent()
    {
        // The silence limit (5.4 s here over HTTP) counts only while the client waits for the stream. The native heartbeat is
        // a minute, so that moving the client's clock on does not take the connection for dead either.
        var clock = new TestClock();
        var (relay, client) = ClientThroughRelay(o =>
        {
            o.TimeProvider = clock;
            o.ConnectTimeout = TimeSpan.FromMinutes(1);
        });
        await using var proxy = relay;
        await using var events = client.WatchAsync("/slow", new WatchOptions { Snapshot = true }).GetAsyncEnumerator();
        Assert.True((await NextAsync(events)).IsSnapshot);
        clock.Advance(TimeSpan.FromSeconds(10)); // the caller's loop over the snapshot took that long

        await using var lease = await Bounded(CreateClient().AcquireAsync(PathOptions("/slow/a", 60)));
        var granted = await NextAsync(events);
        Assert.Equal((EventTypes.Granted, lease.Fence), (granted.Type, granted.Lease!.Fence));
        Assert.Equal(1, proxy.Connections); // the same stream: it was not dropped and opened again
    }

    [Fact]
    public async Task Cancelling_ends_the_enumeration_and_frees_the_server_stream()
    {
        var client = Client();
        using var cancel = new CancellationTokenSource();
        var seen = new List<LeaseholdEvent>();
        var watching = Task.Run(async () =>
        {
            await foreach (var e in client.WatchAsync("/", new WatchOptions { Snapshot = true }, cancel.Token))
            {
                seen.Add(e);
            }
        });
        await WaitUntilAsync(() => Task.FromResult(Server.Events.OpenStreams == 1), "the stream is open");
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(watching));
        await WaitUntilAsync(() => Task.FromResult(Server.Events.OpenStreams == 0), "the server's stream is freed");

        // Breaking out of the loop frees it too.
        await foreach (var e in client.WatchAsync("/", new WatchOptions { Snapshot = true }))
        {
            Assert.True(e.IsSnapshot);
            break;
        }
        await WaitUntilAsync(() => Task.FromResult(Server.Events.OpenStreams == 0), "the server's stream is freed after a break");
    }

    [Fact]
    public async Task A_bad_prefix_throws_the_servers_refusal()
    {
        var client = Client();
        var refused = await Assert.ThrowsAnyAsync<LeaseholdException>(async () =>
        {
            await foreach (var e in client.WatchAsync("no-slash"))
            {
                Assert.Fail($"an event came: {e}");
            }
        });
        Assert.Equal(ErrorCodes.InvalidPath, refused.Code);
    }

    /// <summary>The next event, bounded; with <paramref name="skip"/>, events of that type are passed over.</summary>
    private static async Task<LeaseholdEvent> NextAsync(IAsyncEnumerator<LeaseholdEvent> events, string? skip = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.True(await events.MoveNextAsync().AsTask().WaitAsync(ClientTestServer.Timeout), "the enumeration ended");
            if (events.Current.Type != skip)
            {
                return events.Current;
            }
            Assert.True(clock.Elapsed < ClientTestServer.Timeout, "only skipped events came");
        }
    }
}

using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Leasehold.Protocol.Native;
using Leasehold.Server.Events;
using Leasehold.Server.Tests.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Server.Tests.Native;

/// <summary>WATCH (docs/protocol.md) with raw frames against the real server: the event stream on a native connection.</summary>
public sealed class WatchTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(["--Leasehold:Durability=memory"]);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private EventHub Hub => _server.App.Services.GetRequiredService<EventHub>();

    [Fact]
    public async Task Watch_answers_watching_then_the_events_of_a_real_sequence_in_order_with_its_id()
    {
        var (connection, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var owned = connection;
        await connection.SendAsync(2, new WatchMessage("/watch", -1, WatchFlags.None));
        var watching = await connection.ReceiveAsync();
        Assert.Equal(2u, watching.Id);
        var after = (long)watching.As<WatchingMessage>().After;

        var api = new Api(_server.Client);
        var lease = await api.AcquireAsync("/watch/a", null);
        using (var deleted = await api.SendAsync(HttpMethod.Delete, $"/v1/leases/{lease.Id}", lease.Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        await api.AcquireAsync("/elsewhere", null);

        var granted = await NextEventAsync(connection, 2);
        var released = await NextEventAsync(connection, 2);
        Assert.Equal(("granted", "released"), (Type(granted), Type(released)));
        Assert.Equal(after + 1, granted.GetProperty("revision").GetInt64());
        Assert.Equal(after + 2, released.GetProperty("revision").GetInt64());
        Assert.Equal("/watch/a", released.GetProperty("lease").GetProperty("paths")[0].GetString());
        Assert.Equal("released", released.GetProperty("reason").GetString());
        Assert.False(granted.GetProperty("lease").TryGetProperty("token", out _));

        // The same JSON as the SSE stream's data lines: one parser serves both.
        using var sse = await _server.Client.GetAsync(new Uri($"/v1/events?prefix=/watch&after={after}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        // It names the revision it starts after, as WATCHING does.
        Assert.Equal(after.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(sse.Headers.GetValues("Leasehold-Revision")));
        using var reader = new StreamReader(await sse.Content.ReadAsStreamAsync());
        string? line;
        for (var lines = 0; (line = await reader.ReadLineAsync().WaitAsync(TestServer.Timeout)) is not null && !line.StartsWith("data: ", StringComparison.Ordinal); lines++)
        {
            Assert.True(lines < 10, "no data line among the first lines of the stream");
        }
        Assert.Equal(granted.GetRawText(), line!["data: ".Length..]);

        // Nothing about /elsewhere came: the next frame answers a PING.
        await connection.SendAsync(3, new PingMessage([]));
        Assert.Equal((FrameType.Pong, 3u), (await connection.ReceiveAsync()) is var pong ? (pong.Type, pong.Id) : default);
    }

    [Fact]
    public async Task Watch_with_snapshot_starts_with_the_state_and_after_resumes_from_the_history()
    {
        var api = new Api(_server.Client);
        await api.AcquireAsync("/snap/held", null);
        var (connection, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var _ = connection;
        await connection.SendAsync(2, new WatchMessage("/snap", -1, WatchFlags.Snapshot));
        var after = (long)(await connection.ReceiveAsync()).As<WatchingMessage>().After;
        var snapshot = await NextEventAsync(connection, 2);
        Assert.Equal("snapshot", Type(snapshot));
        Assert.Equal(after, snapshot.GetProperty("revision").GetInt64());
        Assert.Equal("/snap/held", snapshot.GetProperty("holders")[0].GetProperty("paths")[0].GetString());

        await api.AcquireAsync("/snap/second", null);
        await api.AcquireAsync("/snap/third", null);
        Assert.Equal(after + 1, (await NextEventAsync(connection, 2)).GetProperty("revision").GetInt64());
        Assert.Equal(after + 2, (await NextEventAsync(connection, 2)).GetProperty("revision").GetInt64());
        await connection.SendAsync(9, new CancelMessage(2));
        Assert.Equal((2u, "cancelled"), (await connection.ReceiveAsync()) is var c ? (c.Id, c.Error().Code) : default);
        Assert.Equal((FrameType.Ok, 9u), (await connection.ReceiveAsync()) is var ok ? (ok.Type, ok.Id) : default);
        // A second watch from the first revision after the snapshot: the history serves it, no snapshot.
        await connection.SendAsync(3, new WatchMessage("/snap", after + 1, WatchFlags.Snapshot));
        Assert.Equal(after + 1, (long)(await NextFrameAsync(connection, 3)).As<WatchingMessage>().After);
        var third = await NextEventAsync(connection, 3);
        Assert.Equal(("granted", "/snap/third"), (Type(third), third.GetProperty("lease").GetProperty("paths")[0].GetString()));

        // One the server never published: reset, then a snapshot as of now.
        await connection.SendAsync(4, new WatchMessage("/snap", 1_000_000, WatchFlags.None));
        var now = (long)(await NextFrameAsync(connection, 4)).As<WatchingMessage>().After;
        var reset = await NextEventAsync(connection, 4);
        Assert.Equal(("reset", now), (Type(reset), reset.GetProperty("revision").GetInt64()));
        var state = await NextEventAsync(connection, 4);
        Assert.Equal(("snapshot", 3), (Type(state), state.GetProperty("holders").GetArrayLength()));
    }

    [Fact]
    public async Task Malformed_watches_get_errors_and_the_connection_goes_on()
    {
        var (connection, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var _ = connection;
        var valid = Payload(new WatchMessage("/ok", -1, WatchFlags.None));
        // A byte left over, a field cut short, a reserved flag bit.
        await connection.SendRawAsync(RawNative.Frame(FrameType.Watch, 2, [.. valid, 0]));
        await connection.SendRawAsync(RawNative.Frame(FrameType.Watch, 3, valid[..^3]));
        await connection.SendRawAsync(RawNative.Frame(FrameType.Watch, 4, [.. valid[..^1], 2]));
        // Values HTTP refuses with the same codes.
        await connection.SendAsync(5, new WatchMessage("lab", -1, WatchFlags.None));
        await connection.SendAsync(6, new WatchMessage("/lab", -2, WatchFlags.None));
        var errors = new Dictionary<uint, string>();
        for (var i = 0; i < 5; i++)
        {
            var frame = await connection.ReceiveAsync();
            errors[frame.Id] = frame.Error().Code;
        }
        Assert.Equal(new Dictionary<uint, string>
        {
            [2] = "invalid-frame", [3] = "invalid-frame", [4] = "invalid-frame", [5] = "invalid-path", [6] = "invalid-argument",
        }, errors);
        await connection.SendAsync(7, new PingMessage([]));
        Assert.Equal((FrameType.Pong, 7u), (await connection.ReceiveAsync()) is var pong ? (pong.Type, pong.Id) : default);
        Assert.Equal(0, Hub.OpenStreams);
    }

    [Fact]
    public async Task Cancel_answers_the_watch_cancelled_then_itself_ok_and_frees_the_stream()
    {
        var (connection, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var _ = connection;
        await connection.SendAsync(5, new WatchMessage("/", -1, WatchFlags.None));
        (await NextFrameAsync(connection, 5)).As<WatchingMessage>();
        Assert.Equal(1, Hub.OpenStreams);
        await connection.SendAsync(6, new CancelMessage(5));
        var cancelled = await connection.ReceiveAsync();
        Assert.Equal((5u, "cancelled", 499), (cancelled.Id, cancelled.Error().Code, (int)cancelled.Error().Status));
        var ok = await connection.ReceiveAsync();
        Assert.Equal((FrameType.Ok, 6u), (ok.Type, ok.Id));
        await WaitUntil(() => Hub.OpenStreams == 0, "the stream is freed");
        // The id is free again: a new WATCH may take it.
        await connection.SendAsync(5, new WatchMessage("/", -1, WatchFlags.None));
        (await NextFrameAsync(connection, 5)).As<WatchingMessage>();
    }

    [Fact]
    public async Task Closing_the_connection_frees_its_watches()
    {
        var (connection, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await connection.SendAsync(2, new WatchMessage("/", -1, WatchFlags.None));
        await connection.SendAsync(3, new WatchMessage("/a", -1, WatchFlags.None));
        // Each watch answers on its own: in either order.
        var first = await connection.ReceiveAsync();
        var second = await connection.ReceiveAsync();
        first.As<WatchingMessage>();
        second.As<WatchingMessage>();
        Assert.Equal([2u, 3u], new[] { first.Id, second.Id }.Order());
        Assert.Equal(2, Hub.OpenStreams);
        await connection.DisposeAsync();
        await WaitUntil(() => Hub.OpenStreams == 0, "the streams of the closed connection are freed");
    }

    [Fact]
    public async Task Two_watches_share_a_connection_each_with_its_own_prefix_and_id()
    {
        var (connection, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var _ = connection;
        await connection.SendAsync(2, new WatchMessage("/two/x", -1, WatchFlags.None));
        await connection.SendAsync(3, new WatchMessage("/two/y", -1, WatchFlags.None));
        var started = new HashSet<uint>();
        for (var i = 0; i < 2; i++)
        {
            var frame = await connection.ReceiveAsync();
            frame.As<WatchingMessage>();
            started.Add(frame.Id);
        }
        Assert.Equal([2u, 3u], started.Order());
        var api = new Api(_server.Client);
        await api.AcquireAsync("/two/x/1", null);
        await api.AcquireAsync("/two/y/1", null);
        await api.AcquireAsync("/two/x/2", null);
        var seen = new List<(uint Id, string Path)>();
        for (var i = 0; i < 3; i++)
        {
            var frame = await connection.ReceiveAsync();
            Assert.Equal(FrameType.Event, frame.Type);
            var json = JsonDocument.Parse(frame.As<EventMessage>().Json).RootElement;
            seen.Add((frame.Id, json.GetProperty("lease").GetProperty("paths")[0].GetString()!));
        }
        Assert.Equal([(2u, "/two/x/1"), (2u, "/two/x/2")], seen.Where(s => s.Id == 2));
        Assert.Equal([(3u, "/two/y/1")], seen.Where(s => s.Id == 3));
    }

    [Fact]
    public async Task A_stalled_reader_is_cut_off_and_its_connection_goes_on()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Events:Buffer=8", "--Leasehold:Durability=memory"]);
        var hub = server.App.Services.GetRequiredService<EventHub>();
        var (stalled, _) = await RawNative.OpenAsync(server.NativeEndPoint, receiveBuffer: 4096);
        await using var _ = stalled;
        await stalled.SendAsync(2, new WatchMessage("/", -1, WatchFlags.None));
        // Its events are numbered on from the revision it starts after (in memory mode, not 0: docs/events.md).
        var start = (long)(await stalled.ReceiveAsync()).As<WatchingMessage>().After;
        // A watch of another prefix on another connection goes on unaffected.
        var (healthy, _) = await RawNative.OpenAsync(server.NativeEndPoint);
        await using var h = healthy;
        await healthy.SendAsync(2, new WatchMessage("/small", -1, WatchFlags.None));
        (await healthy.ReceiveAsync()).As<WatchingMessage>();

        // Big events (a resource's attributes) fill the stalled connection's buffers, then its subscription's.
        var api = new Api(server.Client);
        var attributes = "{\"blob\": \"" + new string('x', 48 * 1024) + "\"}";
        var clock = Stopwatch.StartNew();
        var declared = 0;
        for (; declared < 2000 && hub.CutOffs == 0; declared++)
        {
            Assert.True(clock.Elapsed < TestServer.Timeout, $"no cut-off after {declared} events of 48 KiB");
            using var response = await api.SendAsync(HttpMethod.Put, "/v1/resources/lab/big", null, attributes);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(1, hub.CutOffs);
        await WaitUntil(() => hub.OpenStreams == 1, "the stalled watch's stream is freed");

        await api.AcquireAsync("/small/x", null);
        Assert.Equal("granted", Type(await NextEventAsync(healthy, 2)));

        // The stalled one reads again: some events in order, the cut-off, then OK; and the connection serves requests.
        await stalled.SendAsync(3, new PingMessage([]));
        var got = 0L;
        JsonElement cutOff;
        while (true)
        {
            var e = await NextEventAsync(stalled, 2);
            if (Type(e) == "cut-off")
            {
                cutOff = e;
                break;
            }
            Assert.Equal(start + ++got, e.GetProperty("revision").GetInt64());
            Assert.True(got < declared, $"the stalled reader got all {declared} events");
        }
        Assert.True(got < declared, $"the stalled reader got {got} of {declared} events");
        Assert.Equal(("slow-consumer", start + got), (cutOff.GetProperty("reason").GetString(), cutOff.GetProperty("revision").GetInt64()));
        Assert.Equal((FrameType.Ok, 2u), (await stalled.ReceiveAsync()) is var ok ? (ok.Type, ok.Id) : default);
        Assert.Equal((FrameType.Pong, 3u), (await stalled.ReceiveAsync()) is var pong ? (pong.Type, pong.Id) : default);
    }

    [Fact]
    public async Task An_event_larger_than_a_frame_comes_in_continued_pieces()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Native:MaxFrameBytes=1024", "--Leasehold:Durability=memory"]);
        var (connection, _) = await RawNative.OpenAsync(server.NativeEndPoint);
        await using var _ = connection;
        await connection.SendAsync(2, new WatchMessage("/", -1, WatchFlags.None));
        (await connection.ReceiveAsync()).As<WatchingMessage>();
        var api = new Api(server.Client);
        var attributes = "{\"blob\": \"" + new string('y', 3000) + "\"}";
        using (var response = await api.SendAsync(HttpMethod.Put, "/v1/resources/lab/large", null, attributes))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var pieces = new List<EventMessage>();
        do
        {
            var frame = await connection.ReceiveAsync();
            Assert.True(frame.Payload.Length + 5 <= 1024);
            pieces.Add(frame.As<EventMessage>());
        }
        while ((pieces[^1].Flags & EventFlags.Continued) != 0);
        Assert.True(pieces.Count >= 3);
        var json = JsonDocument.Parse(pieces.SelectMany(p => p.Json.ToArray()).ToArray()).RootElement;
        Assert.Equal(("declared", 3000), (Type(json), json.GetProperty("attributes").GetProperty("blob").GetString()!.Length));
    }

    [Fact]
    public async Task Watching_needs_the_read_right_on_the_prefix()
    {
        JsonArray rules =
        [
            SecuredServer.Rule(["ci"], "/ci/**", "lock", "read"),
            SecuredServer.Rule(["lab"], "/lab/**", "read"),
            SecuredServer.Rule(["anonymous"], "/warm-up/**", "read"),
        ];
        await using var server = await SecuredServer.StartAsync(rules);
        var (lab, _) = await RawNative.OpenAsync(server.Server.NativeEndPoint, server.Keys["lab"]);
        await using var a = lab;
        await lab.SendAsync(2, new WatchMessage("/ci", -1, WatchFlags.None));
        Assert.Equal((2u, "forbidden"), (await lab.ReceiveAsync()) is var f ? (f.Id, f.Error().Code) : default);
        var (anonymous, _) = await RawNative.OpenAsync(server.Server.NativeEndPoint);
        await using var b = anonymous;
        await anonymous.SendAsync(2, new WatchMessage("/ci", -1, WatchFlags.None));
        Assert.Equal((2u, "unauthenticated"), (await anonymous.ReceiveAsync()) is var u ? (u.Id, u.Error().Code) : default);

        var (ci, _) = await RawNative.OpenAsync(server.Server.NativeEndPoint, server.Keys["ci"]);
        await using var c = ci;
        await ci.SendAsync(2, new WatchMessage("/ci", -1, WatchFlags.None));
        (await ci.ReceiveAsync()).As<WatchingMessage>();
        using (var acquired = await server.SendAsync("ci", HttpMethod.Post, "/v1/leases", """{"path": "/ci/a"}"""))
        {
            Assert.Equal(HttpStatusCode.Created, acquired.StatusCode);
        }
        Assert.Equal("granted", Type(await NextEventAsync(ci, 2)));
    }

    [Fact]
    public async Task Session_events_reach_only_watchers_with_admin_on_the_root_as_on_the_sse_stream()
    {
        await using var server = await SecuredServer.StartAsync();
        var (reader, _) = await RawNative.OpenAsync(server.Server.NativeEndPoint, server.Keys["ci"]);
        await using var r = reader;
        var (admin, _) = await RawNative.OpenAsync(server.Server.NativeEndPoint, server.Keys["root"]);
        await using var a = admin;
        foreach (var watcher in new[] { reader, admin })
        {
            await watcher.SendAsync(2, new WatchMessage("/", -1, WatchFlags.None));
            (await NextFrameAsync(watcher, 2)).As<WatchingMessage>();
        }
        var opened = await server.SendAsync("ci", HttpMethod.Post, "/v1/sessions", """{"ttl": 60, "owner": "worker"}""");
        var session = await HttpAssert.ReadJsonAsync(opened, HttpStatusCode.Created);
        using (var acquired = await server.SendAsync("ci", HttpMethod.Post, "/v1/leases", $$"""{"path": "/ci/s", "session": {{session.GetProperty("id").GetInt64()}}}"""))
        {
            Assert.Equal(HttpStatusCode.Created, acquired.StatusCode);
        }
        Assert.Equal(["session-opened", "granted"], [Type(await NextEventAsync(admin, 2)), Type(await NextEventAsync(admin, 2))]);
        // Every principal may read the whole tree here, but a session names its owner and principal: the admin's to list.
        Assert.Equal("granted", Type(await NextEventAsync(reader, 2)));
    }

    private static string Type(JsonElement e) => e.GetProperty("type").GetString()!;

    private static byte[] Payload<T>(T message) where T : struct, INativeMessage<T>
    {
        var output = new ArrayBufferWriter<byte>();
        NativeFrames.Write(output, 1, message);
        return output.WrittenSpan[9..].ToArray();
    }

    /// <summary>The next frame, which must carry <paramref name="id"/>.</summary>
    private static async Task<RawNative.Received> NextFrameAsync(RawNative connection, uint id)
    {
        var frame = await connection.ReceiveAsync();
        Assert.True(frame.Id == id, $"expected a frame for {id}, got {frame.Type} for {frame.Id}");
        return frame;
    }

    /// <summary>The next frame as one whole EVENT of <paramref name="id"/>, parsed.</summary>
    private static async Task<JsonElement> NextEventAsync(RawNative connection, uint id)
    {
        var bytes = new List<byte>();
        while (true)
        {
            var message = (await NextFrameAsync(connection, id)).As<EventMessage>();
            bytes.AddRange(message.Json.ToArray());
            if ((message.Flags & EventFlags.Continued) == 0)
            {
                return JsonDocument.Parse(bytes.ToArray()).RootElement;
            }
        }
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TestServer.Timeout, $"timed out waiting until {what}");
            await Task.Delay(10);
        }
    }
}

using System.Text;
using Leasehold.Protocol.Native;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Server.Tests.Native;

/// <summary>The native protocol (docs/protocol.md) against the real server, with raw frames over real sockets.</summary>
public sealed class ConformanceTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(["--Leasehold:Native:HandshakeSeconds=1"]);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static AcquireMessage Acquire(string path, long waitMs = 0, long ttlMs = -1) => new() { Paths = [path], WaitMs = waitMs, TtlMs = ttlMs };

    [Fact]
    public async Task Hello_is_welcomed_with_the_limits_and_ping_is_echoed()
    {
        var (connection, welcome) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var _ = connection;
        Assert.Equal((1, 1u << 20, 1024u, "single"), (welcome.Version, welcome.MaxFrameBytes, welcome.MaxInFlight, welcome.Role));
        Assert.StartsWith("leasehold/", welcome.Server);
        await connection.SendAsync(7, new PingMessage([1, 2, 3]));
        var pong = await connection.ReceiveAsync();
        Assert.Equal((FrameType.Pong, 7u), (pong.Type, pong.Id));
        Assert.Equal(new byte[] { 1, 2, 3 }, pong.Payload);
    }

    [Theory]
    [InlineData("wrong-magic")]
    [InlineData("not-hello-first")]
    [InlineData("version-2")]
    public async Task A_bad_handshake_gets_an_error_then_the_connection_closes(string kind)
    {
        await using var connection = await RawNative.ConnectAsync(_server.NativeEndPoint);
        var frame = kind switch
        {
            "wrong-magic" => RawNative.Frame(FrameType.Hello, 1, Convert.FromHexString("4C48503901FFFFFFFF")),
            "not-hello-first" => RawNative.Frame(FrameType.Ping, 1, []),
            _ => RawNative.Frame(FrameType.Hello, 1, Convert.FromHexString("4C48503102FFFFFFFF")),
        };
        await connection.SendRawAsync(frame);
        var error = (await connection.ReceiveAsync()).Error();
        Assert.Equal(kind == "version-2" ? "unsupported-version" : "protocol-error", error.Code);
        Assert.True(await connection.ClosedAsync());
    }

    [Fact]
    public async Task No_hello_in_time_gets_an_error_then_the_connection_closes()
    {
        await using var connection = await RawNative.ConnectAsync(_server.NativeEndPoint);
        var frame = await connection.ReceiveAsync();
        Assert.Equal(0u, frame.Id);
        Assert.Equal(("protocol-error", 408), (frame.Error().Code, (int)frame.Error().Status));
        Assert.True(await connection.ClosedAsync());
    }

    [Fact]
    public async Task Acquire_release_and_a_waiter_granted_by_push_from_another_connection()
    {
        var (first, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        var (second, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var a = first;
        await using var b = second;
        await first.SendAsync(2, Acquire("/native/a"));
        var lease = (await first.ReceiveAsync()).As<LeaseMessage>();
        Assert.Equal(["/native/a"], lease.Paths);
        Assert.NotNull(lease.Token);
        Assert.Equal(LeaseFlags.LockParents | LeaseFlags.LockChildren, lease.Flags);

        await second.SendAsync(3, Acquire("/native/a"));
        var refused = await second.ReceiveAsync();
        Assert.Equal((3u, "locked", 409), (refused.Id, refused.Error().Code, (int)refused.Error().Status));
        Assert.Contains("holders", Encoding.UTF8.GetString(refused.Error().Extensions!));

        await second.SendAsync(4, Acquire("/native/a", waitMs: 15_000));
        await second.SendAsync(5, new PingMessage([]));
        // Pipelined: the PING sent after the waiting ACQUIRE is answered first.
        Assert.Equal((FrameType.Pong, 5u), ((await second.ReceiveAsync()).Type, 5u));

        await first.SendAsync(6, new ReleaseMessage(lease.Id, lease.Token!));
        Assert.Equal((FrameType.Ok, 6u), ((await first.ReceiveAsync()) is var ok ? (ok.Type, ok.Id) : default));
        var granted = await second.ReceiveAsync();
        Assert.Equal(4u, granted.Id);
        Assert.True(granted.As<LeaseMessage>().Fence > lease.Fence);
    }

    [Fact]
    public async Task A_closed_connection_is_no_longer_told_of_the_leases_and_sessions_it_leaves_alive()
    {
        // The engine host holds whoever it tells of an end: a connection gone must not stay held by the lease and the
        // session it leaves behind for as long as they live (a lease without a ttl, a session kept alive elsewhere).
        var host = _server.App.Services.GetRequiredService<Leasehold.Server.Engine.EngineHost>();
        var before = await host.ExecuteAsync(w => host.Watched);
        var (connection, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        LeaseMessage lease;
        SessionMessage session;
        await using (connection)
        {
            await connection.SendAsync(2, Acquire("/native/closed", ttlMs: 600_000));
            lease = (await connection.ReceiveAsync()).As<LeaseMessage>();
            await connection.SendAsync(3, new SessionOpenMessage(600_000, "closer", SessionFlags.None));
            session = (await connection.ReceiveAsync()).As<SessionMessage>();
            Assert.Equal(before + 2, await host.ExecuteAsync(w => host.Watched));
        }
        await ServerTestBase.WaitUntilAsync(async () => await host.ExecuteAsync(w => host.Watched) == before, "the closed connection is watched no more");
        // Both live on: only the telling stopped.
        Assert.NotNull(await host.ExecuteAsync(w => w.Engine.GetLease((long)lease.Id)));
        Assert.NotNull(await host.ExecuteAsync(w => w.Engine.GetSession((long)session.Id)));
    }

    [Fact]
    public async Task Cancel_answers_the_acquire_cancelled_then_itself_ok()
    {
        var (holder, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        var (waiter, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var a = holder;
        await using var b = waiter;
        await holder.SendAsync(2, Acquire("/native/c"));
        (await holder.ReceiveAsync()).As<LeaseMessage>();
        await waiter.SendAsync(10, Acquire("/native/c", waitMs: 15_000));
        await waiter.SendAsync(11, new CancelMessage(10));
        var cancelled = await waiter.ReceiveAsync();
        Assert.Equal((10u, "cancelled"), (cancelled.Id, cancelled.Error().Code));
        var ok = await waiter.ReceiveAsync();
        Assert.Equal((FrameType.Ok, 11u), (ok.Type, ok.Id));
        using var stats = await _server.Client.GetAsync(new Uri("/v1/stats", UriKind.Relative));
        Assert.Contains("\"waiters\":0", await stats.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_waiter_whose_connection_closes_leaves_the_queue()
    {
        var (holder, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var a = holder;
        await holder.SendAsync(2, Acquire("/native/w"));
        var lease = (await holder.ReceiveAsync()).As<LeaseMessage>();
        var (waiter, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await waiter.SendAsync(3, Acquire("/native/w", waitMs: 15_000));
        await waiter.SendAsync(4, new PingMessage([]));
        await waiter.ReceiveAsync();
        Assert.Equal(1, await WaitersAsync());
        await waiter.DisposeAsync();
        var deadline = DateTime.UtcNow + TestServer.Timeout;
        while (await WaitersAsync() != 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.Equal(0, await WaitersAsync());
        // The path is still the holder's: nothing was granted to the dead connection.
        await holder.SendAsync(5, new GetLeaseMessage(lease.Id));
        Assert.Equal(lease.Id, (await holder.ReceiveAsync()).As<LeaseMessage>().Id);
    }

    private async Task<int> WaitersAsync()
    {
        using var stats = await _server.Client.GetAsync(new Uri("/v1/stats", UriKind.Relative));
        var json = System.Text.Json.JsonDocument.Parse(await stats.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("waiters").GetInt32();
    }

    [Fact]
    public async Task Lease_ended_is_pushed_when_a_lease_expires()
    {
        var (connection, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var _ = connection;
        await connection.SendAsync(2, Acquire("/native/e", ttlMs: 300));
        var lease = (await connection.ReceiveAsync()).As<LeaseMessage>();
        var push = await connection.ReceiveAsync();
        Assert.Equal(0u, push.Id);
        Assert.Equal(new LeaseEndedMessage(lease.Id, "expired"), push.As<LeaseEndedMessage>());
    }

    [Fact]
    public async Task Own_release_is_not_pushed_but_a_release_by_another_connection_is()
    {
        var (owner, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        var (other, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var a = owner;
        await using var b = other;
        await owner.SendAsync(2, Acquire("/native/r1"));
        var mine = (await owner.ReceiveAsync()).As<LeaseMessage>();
        await owner.SendAsync(3, new ReleaseMessage(mine.Id, mine.Token!));
        Assert.Equal(FrameType.Ok, (await owner.ReceiveAsync()).Type);
        await owner.SendAsync(4, Acquire("/native/r2"));
        var second = (await owner.ReceiveAsync()).As<LeaseMessage>();
        await other.SendAsync(2, new ReleaseMessage(second.Id, second.Token!));
        Assert.Equal(FrameType.Ok, (await other.ReceiveAsync()).Type);
        // The next frame the owner sees is the push for the second lease: none came for its own release.
        Assert.Equal(new LeaseEndedMessage(second.Id, "released"), (await owner.ReceiveAsync()).As<LeaseEndedMessage>());
    }

    [Fact]
    public async Task Malformed_unknown_and_duplicate_requests_get_errors_and_the_connection_goes_on()
    {
        var (connection, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var _ = connection;
        await connection.SendRawAsync(RawNative.Frame((FrameType)0x55, 2, [1, 2]));
        Assert.Equal((2u, "unknown-message"), (await connection.ReceiveAsync()) is var u ? (u.Id, u.Error().Code) : default);
        await connection.SendRawAsync(RawNative.Frame(FrameType.Release, 3, [0, 0, 0]));
        Assert.Equal((3u, "invalid-frame"), (await connection.ReceiveAsync()) is var t ? (t.Id, t.Error().Code) : default);
        await connection.SendRawAsync(RawNative.Frame(FrameType.Release, 4, [0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0xC3]));
        Assert.Equal((4u, "invalid-frame"), (await connection.ReceiveAsync()) is var f ? (f.Id, f.Error().Code) : default);
        await connection.SendRawAsync(RawNative.Frame(FrameType.GetLease, 5, [0, 0, 0, 0, 0, 0, 0, 1, 9]));
        Assert.Equal((5u, "invalid-frame"), (await connection.ReceiveAsync()) is var g ? (g.Id, g.Error().Code) : default);
        await connection.SendRawAsync(RawNative.Frame(FrameType.Ping, 0, []));
        Assert.Equal((0u, "invalid-frame"), (await connection.ReceiveAsync()) is var z ? (z.Id, z.Error().Code) : default);

        // A duplicate id: the second ACQUIRE with id 9 is refused, the first (waiting) is unaffected.
        var (holder, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var h = holder;
        await holder.SendAsync(2, Acquire("/native/d"));
        var lease = (await holder.ReceiveAsync()).As<LeaseMessage>();
        await connection.SendAsync(9, Acquire("/native/d", waitMs: 15_000));
        await connection.SendAsync(9, Acquire("/native/other"));
        var duplicate = await connection.ReceiveAsync();
        Assert.Equal((9u, "invalid-argument"), (duplicate.Id, duplicate.Error().Code));
        await holder.SendAsync(3, new ReleaseMessage(lease.Id, lease.Token!));
        await holder.ReceiveAsync();
        Assert.Equal(["/native/d"], (await connection.ReceiveAsync()).As<LeaseMessage>().Paths);
    }

    [Fact]
    public async Task An_oversized_frame_closes_its_connection_and_others_are_served()
    {
        var (bad, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        var (good, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var a = bad;
        await using var b = good;
        await bad.SendRawAsync([0x00, 0x20, 0x00, 0x00, 0x02, 0, 0, 0, 1]);
        var error = await bad.ReceiveAsync();
        Assert.Equal((0u, "frame-too-large"), (error.Id, error.Error().Code));
        Assert.True(await bad.ClosedAsync());
        await good.SendAsync(2, new PingMessage([5]));
        Assert.Equal(FrameType.Pong, (await good.ReceiveAsync()).Type);
    }

    [Fact]
    public async Task Call_runs_http_routes_with_the_same_answers_and_error_codes()
    {
        var (connection, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var _ = connection;
        await connection.SendAsync(2, new CallMessage("POST", "/v1/leases", Encoding.UTF8.GetBytes("""{"path": "/native/call", "ttl": 60}""")));
        var created = (await connection.ReceiveAsync()).As<ResultMessage>();
        Assert.Equal(201, created.Status);
        Assert.Contains("\"/native/call\"", Encoding.UTF8.GetString(created.Body!));
        await connection.SendAsync(3, new CallMessage("GET", "/v1/resources?prefix=/native", null));
        var listed = (await connection.ReceiveAsync()).As<ResultMessage>();
        Assert.Equal(200, listed.Status);
        Assert.Contains("/native/call", Encoding.UTF8.GetString(listed.Body!));
        await connection.SendAsync(4, new CallMessage("GET", "/v1/leases/999", null));
        var missing = (await connection.ReceiveAsync()).As<ResultMessage>();
        Assert.Equal((404, "application/problem+json"), (missing.Status, missing.ContentType));
        Assert.Contains("\"code\":\"not-found\"", Encoding.UTF8.GetString(missing.Body!));
        await connection.SendAsync(5, new CallMessage("POST", "/v1/leases", Encoding.UTF8.GetBytes("""{"path": "lab"}""")));
        var invalid = (await connection.ReceiveAsync()).As<ResultMessage>();
        Assert.Equal(400, invalid.Status);
        Assert.Contains("\"code\":\"invalid-path\"", Encoding.UTF8.GetString(invalid.Body!));
    }

    [Fact]
    public async Task Sessions_open_keep_alive_and_close_and_a_bound_session_outlives_its_connection_by_its_ttl()
    {
        var (connection, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await connection.SendAsync(2, new SessionOpenMessage(1500, "worker", SessionFlags.Bound));
        var session = (await connection.ReceiveAsync()).As<SessionMessage>();
        Assert.Equal((1500L, "worker"), (session.TtlMs, session.Owner));
        await connection.SendAsync(3, new SessionKeepAliveMessage(session.Id, session.Token!));
        Assert.Equal(session.Id, (await connection.ReceiveAsync()).As<SessionMessage>().Id);
        // Bound: kept alive by the server past several ttls while the connection lives.
        await Task.Delay(TimeSpan.FromMilliseconds(3500));
        await connection.SendAsync(4, new CallMessage("GET", "/v1/stats", null));
        Assert.Contains("\"sessions\":1", Encoding.UTF8.GetString((await connection.ReceiveAsync()).As<ResultMessage>().Body!));
        await connection.DisposeAsync();
        var deadline = DateTime.UtcNow + TestServer.Timeout;
        string stats;
        do
        {
            await Task.Delay(50);
            using var response = await _server.Client.GetAsync(new Uri("/v1/stats", UriKind.Relative));
            stats = await response.Content.ReadAsStringAsync();
        }
        while (!stats.Contains("\"sessions\":0", StringComparison.Ordinal) && DateTime.UtcNow < deadline);
        Assert.Contains("\"sessions\":0", stats);

        var (other, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var o = other;
        await other.SendAsync(2, new SessionOpenMessage(-1, null, SessionFlags.None));
        var plain = (await other.ReceiveAsync()).As<SessionMessage>();
        Assert.Equal(30_000, plain.TtlMs);
        await other.SendAsync(3, new SessionCloseMessage(plain.Id, plain.Token!));
        Assert.Equal(FrameType.Ok, (await other.ReceiveAsync()).Type);
        await other.SendAsync(4, new SessionCloseMessage(plain.Id, plain.Token!));
        Assert.Equal("not-found", (await other.ReceiveAsync()).Error().Code);
    }

    [Fact]
    public async Task Closing_its_own_session_ends_its_leases_without_a_push_round_after_round()
    {
        var (connection, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var c = connection;
        for (uint round = 0; round < 4; round++)
        {
            var id = 10 * (round + 1);
            await c.SendAsync(id, new SessionOpenMessage(-1, "rounds", SessionFlags.Bound));
            var session = (await c.ReceiveAsync()).As<SessionMessage>();
            foreach (var path in new[] { $"/rounds/{round}/a", $"/rounds/{round}/b" })
            {
                await c.SendAsync(++id, Acquire(path) with { SessionId = session.Id });
                Assert.Equal(FrameType.Lease, (await c.ReceiveAsync()).Type);
            }
            await c.SendAsync(++id, new SessionCloseMessage(session.Id, session.Token!));
            Assert.Equal(FrameType.Ok, (await c.ReceiveAsync()).Type);
            // The leases ended by the connection's own close are not pushed back to it: the next frame is the PONG.
            await c.SendAsync(++id, new PingMessage([(byte)round]));
            var next = await c.ReceiveAsync();
            Assert.Equal((FrameType.Pong, id), (next.Type, next.Id));
            using var resource = await _server.Client.GetAsync(new Uri($"/v1/resources/rounds/{round}/a", UriKind.Relative));
            var holders = System.Text.Json.JsonDocument.Parse(await resource.Content.ReadAsStringAsync()).RootElement.GetProperty("holders");
            Assert.Equal(0, holders.GetArrayLength());
        }
    }

    [Fact]
    public async Task Renew_and_get_lease_answer_the_lease_without_its_token()
    {
        var (connection, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var _ = connection;
        await connection.SendAsync(2, Acquire("/native/renew", ttlMs: 60_000));
        var lease = (await connection.ReceiveAsync()).As<LeaseMessage>();
        await connection.SendAsync(3, new RenewMessage(lease.Id, lease.Token!, 120_000));
        var renewed = (await connection.ReceiveAsync()).As<LeaseMessage>();
        Assert.Equal((lease.Id, (string?)null, 120_000L), (renewed.Id, renewed.Token, renewed.TtlMs));
        await connection.SendAsync(4, new RenewMessage(lease.Id, new string('0', 32), -1));
        Assert.Equal("invalid-token", (await connection.ReceiveAsync()).Error().Code);
        await connection.SendAsync(5, new GetLeaseMessage(lease.Id));
        Assert.Null((await connection.ReceiveAsync()).As<LeaseMessage>().Token);
        await connection.SendAsync(6, new GetLeaseMessage(12345));
        Assert.Equal(("not-found", 404), (await connection.ReceiveAsync()).Error() is var e ? (e.Code, (int)e.Status) : default);
    }

    [Fact]
    public async Task An_acquire_keeps_its_milliseconds_as_sent_and_release_reads_the_token_in_either_case()
    {
        var (connection, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var _ = connection;
        // 2007 ms is 2.007 s, whose binary fraction times 1000 is just over 2007: a trip through seconds made it 2008.
        await connection.SendAsync(2, Acquire("/native/millis", ttlMs: 2007));
        var lease = (await connection.ReceiveAsync()).As<LeaseMessage>();
        Assert.Equal((2007L, 2007L), (lease.TtlMs, lease.ExpiresAt - lease.AcquiredAt));
        Assert.Matches("^[0-9a-f]{32}$", lease.Token);
        await connection.SendAsync(3, new ReleaseMessage(lease.Id, new string('g', 32)));
        Assert.Equal("invalid-token", (await connection.ReceiveAsync()).Error().Code);
        var badUtf8 = new byte[8 + 2 + 2];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(badUtf8, lease.Id);
        (badUtf8[9], badUtf8[10], badUtf8[11]) = (2, 0xC3, 0x28);
        await connection.SendRawAsync(RawNative.Frame(FrameType.Release, 4, badUtf8));
        Assert.Equal("invalid-frame", (await connection.ReceiveAsync()).Error().Code);
        await connection.SendAsync(5, new ReleaseMessage(lease.Id, lease.Token!.ToUpperInvariant()));
        Assert.Equal((FrameType.Ok, 5u), await connection.ReceiveAsync() is var ok ? (ok.Type, ok.Id) : default);
    }

    [Fact]
    public async Task Two_connections_interleaving_on_one_path_hold_it_in_turn_first_come_first_served()
    {
        var (first, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        var (second, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var a = first;
        await using var b = second;
        var connections = new[] { first, second };
        await first.SendAsync(1_000, Acquire("/native/turns"));
        var held = (await first.ReceiveAsync()).As<LeaseMessage>();
        var holder = 0;
        var fences = new List<ulong> { held.Fence };
        for (var round = 0; round < 8; round++)
        {
            // The other connection queues, then the holder queues again behind it before releasing.
            var other = 1 - holder;
            var otherId = (uint)(10 + round);
            var againId = (uint)(100 + round);
            await connections[other].SendAsync(otherId, Acquire("/native/turns", waitMs: 15_000));
            await connections[other].SendAsync(otherId + 1_000, new PingMessage([]));
            Assert.Equal((FrameType.Pong, otherId + 1_000), (await connections[other].ReceiveAsync()) is var p ? (p.Type, p.Id) : default);
            await connections[holder].SendAsync(againId, Acquire("/native/turns", waitMs: 15_000));
            await connections[holder].SendAsync(againId + 1_000, new ReleaseMessage(held.Id, held.Token!));
            // Mutual exclusion and FIFO: the holder's own new ACQUIRE waits behind the other's, which is granted.
            Assert.Equal((FrameType.Ok, againId + 1_000), (await connections[holder].ReceiveAsync()) is var ok ? (ok.Type, ok.Id) : default);
            var granted = await connections[other].ReceiveAsync();
            Assert.Equal(otherId, granted.Id);
            held = granted.As<LeaseMessage>();
            fences.Add(held.Fence);
            using var resource = await _server.Client.GetAsync(new Uri("/v1/resources/native/turns", UriKind.Relative));
            var holders = System.Text.Json.JsonDocument.Parse(await resource.Content.ReadAsStringAsync()).RootElement.GetProperty("holders");
            Assert.Equal(held.Id, Assert.Single(holders.EnumerateArray()).GetProperty("id").GetUInt64());
            // The previous holder's ACQUIRE is next: cancel it so the turns go on with fresh requests.
            await connections[holder].SendAsync(againId + 2_000, new CancelMessage(againId));
            Assert.Equal((againId, "cancelled"), (await connections[holder].ReceiveAsync()) is var c ? (c.Id, c.Error().Code) : default);
            Assert.Equal(FrameType.Ok, (await connections[holder].ReceiveAsync()).Type);
            holder = other;
        }
        Assert.Equal(fences.Order(), fences);
        Assert.Equal(fences.Count, fences.Distinct().Count());
    }

    [Fact]
    public async Task A_grant_for_a_connection_that_ended_is_released_unless_its_lease_was_written()
    {
        var (holder, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var h = holder;
        // The waiter's end and its grants race: a grant that comes before the server reads the end is written (the
        // waiter reads its LEASE: the lease is the waiter's); one that comes after cannot be written and is released
        // at once; a waiter still queued leaves the queue. Nobody may hold a lease whose token nobody saw.
        const int paths = 24;
        for (var round = 0; round < 8; round++)
        {
            var held = new List<LeaseMessage>();
            for (var i = 0; i < paths; i++)
            {
                await holder.SendAsync((uint)(2 + i), Acquire($"/native/dead/{round}/{i}"));
                held.Add((await holder.ReceiveAsync()).As<LeaseMessage>());
            }
            var (waiter, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
            await using var w = waiter;
            for (var i = 0; i < paths; i++)
            {
                await waiter.SendAsync((uint)(100 + i), Acquire($"/native/dead/{round}/{i}", waitMs: 15_000));
            }
            await waiter.SendAsync(999, new PingMessage([]));
            Assert.Equal(FrameType.Pong, (await waiter.ReceiveAsync()).Type);

            // All the releases in one write, and the waiter's end right after (sooner in some rounds).
            var releases = new System.Buffers.ArrayBufferWriter<byte>();
            for (var i = 0; i < paths; i++)
            {
                NativeFrames.Write(releases, (uint)(200 + i), new ReleaseMessage(held[i].Id, held[i].Token!));
            }
            var bytes = releases.WrittenMemory.ToArray();
            var half = round % 2 == 0 ? bytes.Length : bytes.Length / 2 / 45 * 45;
            await holder.SendRawAsync(bytes[..half]);
            waiter.ShutdownSend();
            if (half < bytes.Length)
            {
                await holder.SendRawAsync(bytes[half..]);
            }
            for (var i = 0; i < paths; i++)
            {
                Assert.Equal(FrameType.Ok, (await holder.ReceiveAsync()).Type);
            }
            // Everything the server still sends the waiter before it closes.
            var delivered = new Dictionary<string, long>();
            try
            {
                while (true)
                {
                    var frame = await waiter.ReceiveAsync();
                    if (frame.Type == FrameType.Lease)
                    {
                        var lease = frame.As<LeaseMessage>();
                        delivered.Add(lease.Paths[0], (long)lease.Id);
                    }
                }
            }
            catch (Exception ex) when (ex is EndOfStreamException or System.Net.Sockets.SocketException)
            {
            }
            for (var i = 0; i < paths; i++)
            {
                var path = $"/native/dead/{round}/{i}";
                if (delivered.TryGetValue(path, out var id))
                {
                    Assert.Equal([id], await HolderIdsAsync(path));
                    continue;
                }
                var deadline = DateTime.UtcNow + TestServer.Timeout;
                while ((await HolderIdsAsync(path)).Length != 0 && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(20);
                }
                Assert.Empty(await HolderIdsAsync(path));
            }
        }
        Assert.Equal(0, await WaitersAsync());
    }

    private async Task<long[]> HolderIdsAsync(string path)
    {
        using var resource = await _server.Client.GetAsync(new Uri("/v1/resources" + path, UriKind.Relative));
        var holders = System.Text.Json.JsonDocument.Parse(await resource.Content.ReadAsStringAsync()).RootElement.GetProperty("holders");
        return [.. holders.EnumerateArray().Select(h => h.GetProperty("id").GetInt64())];
    }

    [Fact]
    public async Task Session_ended_is_pushed_with_each_of_its_leases_when_an_admin_ends_it_or_it_expires_or_another_closes_it()
    {
        var (owner, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var o = owner;
        uint id = 1;

        // Ended by an administrator, over HTTP: the session first, then each of its leases granted here.
        var session = await OpenSessionAsync(owner, ++id, 60_000);
        var leases = new List<ulong>();
        foreach (var path in new[] { "/native/ended/admin/a", "/native/ended/admin/b" })
        {
            await owner.SendAsync(++id, Acquire(path) with { SessionId = session.Id });
            leases.Add((await owner.ReceiveAsync()).As<LeaseMessage>().Id);
        }
        using (var ended = await _server.Client.DeleteAsync(new Uri($"/v1/admin/sessions/{session.Id}", UriKind.Relative)))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, ended.StatusCode);
        }
        await AssertEndedAsync(owner, session.Id, "ended-by-admin", leases);

        // Expired: not kept alive (an unbound session) within its ttl of 1 s.
        session = await OpenSessionAsync(owner, ++id, 1_000);
        await owner.SendAsync(++id, Acquire("/native/ended/expired") with { SessionId = session.Id });
        var expiring = (await owner.ReceiveAsync()).As<LeaseMessage>().Id;
        await AssertEndedAsync(owner, session.Id, "expired", [expiring]);

        // Closed with its token by another connection.
        session = await OpenSessionAsync(owner, ++id, 60_000);
        await owner.SendAsync(++id, Acquire("/native/ended/closed") with { SessionId = session.Id });
        var closedLease = (await owner.ReceiveAsync()).As<LeaseMessage>().Id;
        var (other, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using (other)
        {
            await other.SendAsync(2, new SessionCloseMessage(session.Id, session.Token!));
            Assert.Equal(FrameType.Ok, (await other.ReceiveAsync()).Type);
        }
        await AssertEndedAsync(owner, session.Id, "closed", [closedLease]);
        Assert.Empty(await HolderIdsAsync("/native/ended/closed"));
    }

    private static async Task<SessionMessage> OpenSessionAsync(RawNative connection, uint id, long ttlMs)
    {
        await connection.SendAsync(id, new SessionOpenMessage(ttlMs, "ended", SessionFlags.None));
        return (await connection.ReceiveAsync()).As<SessionMessage>();
    }

    /// <summary>The pushes of a session that ended: SESSION_ENDED with its reason, and LEASE_ENDED session-ended for each lease (any order).</summary>
    private static async Task AssertEndedAsync(RawNative connection, ulong session, string reason, IReadOnlyCollection<ulong> leases)
    {
        var ended = new List<ulong>();
        var sessionSeen = false;
        for (var i = 0; i < leases.Count + 1; i++)
        {
            var push = await connection.ReceiveAsync();
            Assert.Equal(0u, push.Id);
            if (push.Type == FrameType.SessionEnded)
            {
                Assert.Equal(new SessionEndedMessage(session, reason), push.As<SessionEndedMessage>());
                sessionSeen = true;
                continue;
            }
            var lease = push.As<LeaseEndedMessage>();
            Assert.Equal("session-ended", lease.Reason);
            ended.Add(lease.LeaseId);
        }
        Assert.True(sessionSeen, "no SESSION_ENDED");
        Assert.Equal(leases.Order(), ended.Order());
    }

    [Fact]
    public async Task A_call_that_waits_is_ended_by_cancel_and_leaves_the_queue()
    {
        var (connection, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var c = connection;
        const string path = "/native/call-cancel";
        await c.SendAsync(2, Acquire(path));
        var held = (await c.ReceiveAsync()).As<LeaseMessage>();
        await c.SendAsync(3, new CallMessage("POST", "/v1/leases", Encoding.UTF8.GetBytes($$"""{"path": "{{path}}", "wait": 30}""")));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (await QueueLengthAsync(path) != 1)
        {
            Assert.True(clock.Elapsed < TestServer.Timeout, "the CALL's acquire never queued");
            await Task.Delay(20);
        }

        await c.SendAsync(4, new CancelMessage(3));
        var refused = await c.ReceiveAsync();
        Assert.Equal((3u, "cancelled", 499), (refused.Id, refused.Error().Code, (int)refused.Error().Status));
        var ok = await c.ReceiveAsync();
        Assert.Equal((FrameType.Ok, 4u), (ok.Type, ok.Id));
        Assert.Equal(0, await QueueLengthAsync(path));
        // Released, the path goes to nobody: the cancelled request is not waiting anywhere.
        await c.SendAsync(5, new ReleaseMessage(held.Id, held.Token!));
        Assert.Equal(FrameType.Ok, (await c.ReceiveAsync()).Type);
        Assert.Empty(await HolderIdsAsync(path));
    }

    private async Task<int> QueueLengthAsync(string path)
    {
        using var resource = await _server.Client.GetAsync(new Uri("/v1/resources" + path, UriKind.Relative));
        return System.Text.Json.JsonDocument.Parse(await resource.Content.ReadAsStringAsync()).RootElement.GetProperty("queue").GetArrayLength();
    }

    [Fact]
    public async Task Lease_ended_revoked_is_pushed_after_an_admin_revoke_over_http_or_call()
    {
        var (owner, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        var (admin, _) = await RawNative.OpenAsync(_server.NativeEndPoint);
        await using var a = owner;
        await using var b = admin;
        await owner.SendAsync(2, Acquire("/native/revoked/http"));
        var overHttp = (await owner.ReceiveAsync()).As<LeaseMessage>();
        using (var revoked = await _server.Client.DeleteAsync(new Uri($"/v1/admin/leases/{overHttp.Id}", UriKind.Relative)))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, revoked.StatusCode);
        }
        var push = await owner.ReceiveAsync();
        Assert.Equal(0u, push.Id);
        Assert.Equal(new LeaseEndedMessage(overHttp.Id, "revoked"), push.As<LeaseEndedMessage>());

        await owner.SendAsync(3, Acquire("/native/revoked/call"));
        var overCall = (await owner.ReceiveAsync()).As<LeaseMessage>();
        await admin.SendAsync(2, new CallMessage("DELETE", $"/v1/admin/leases/{overCall.Id}", null));
        Assert.Equal(200, (await admin.ReceiveAsync()).As<ResultMessage>().Status);
        Assert.Equal(new LeaseEndedMessage(overCall.Id, "revoked"), (await owner.ReceiveAsync()).As<LeaseEndedMessage>());
        // The revoked lease is gone for its holder too.
        await owner.SendAsync(4, new ReleaseMessage(overCall.Id, overCall.Token!));
        Assert.Equal("not-found", (await owner.ReceiveAsync()).Error().Code);
    }
}

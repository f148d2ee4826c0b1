using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Leasehold.Protocol.Native;
using Leasehold.Server.Security;
using Leasehold.Server.Tests.Security;

namespace Leasehold.Server.Tests.Native;

/// <summary>The native port's limits and security (docs/protocol.md, limits and security), each on a server of its own settings.</summary>
public sealed class ServerLimitsTests
{
    private static readonly TimeSpan Silence = TimeSpan.FromMilliseconds(500);

    private static AcquireMessage Acquire(string path, long waitMs = 0) => new() { Paths = [path], WaitMs = waitMs, TtlMs = -1 };

    /// <summary>Whether no frame arrives within <see cref="Silence"/> (the connection still open).</summary>
    private static async Task<bool> SilentAsync(RawNative connection)
    {
        try
        {
            var frame = await connection.ReceiveAsync(Silence);
            Assert.Fail($"expected no frame, got {frame.Type} id {frame.Id}");
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    private static async Task<int> WaitersAsync(TestServer server)
    {
        using var stats = await server.Client.GetAsync(new Uri("/v1/stats", UriKind.Relative));
        return JsonDocument.Parse(await stats.Content.ReadAsStringAsync()).RootElement.GetProperty("waiters").GetInt32();
    }

    [Fact]
    public async Task Beyond_max_in_flight_the_server_stops_reading_and_every_request_is_answered_once_slots_free()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Native:MaxInFlight=4"]);
        var (holderConnection, _) = await RawNative.OpenAsync(server.NativeEndPoint);
        var (waiterConnection, welcome) = await RawNative.OpenAsync(server.NativeEndPoint);
        await using var holder = holderConnection;
        await using var waiter = waiterConnection;
        Assert.Equal(4u, welcome.MaxInFlight);
        var held = new List<LeaseMessage>();
        for (var i = 0; i < 6; i++)
        {
            await holder.SendAsync((uint)(2 + i), Acquire($"/bp/{i}"));
            held.Add((await holder.ReceiveAsync()).As<LeaseMessage>());
        }

        // Six waiting ACQUIREs and a PING, all sent at once: four are taken, the rest wait in the socket.
        for (var i = 0; i < 6; i++)
        {
            await waiter.SendAsync((uint)(10 + i), Acquire($"/bp/{i}", waitMs: 15_000));
        }
        await waiter.SendAsync(20, new PingMessage([7]));
        Assert.True(await SilentAsync(waiter));
        Assert.Equal(4, await WaitersAsync(server));

        var answered = new List<uint>();
        async Task ReleaseAsync(int index)
        {
            await holder.SendAsync((uint)(100 + index), new ReleaseMessage(held[index].Id, held[index].Token!));
            Assert.Equal((FrameType.Ok, (uint)(100 + index)), (await holder.ReceiveAsync()) is var ok ? (ok.Type, ok.Id) : default);
        }

        // Each grant frees a slot, which the next ACQUIRE in the socket takes: the PING is still not read.
        await ReleaseAsync(0);
        var first = await waiter.ReceiveAsync();
        Assert.Equal(["/bp/0"], first.As<LeaseMessage>().Paths);
        answered.Add(first.Id);
        await ReleaseAsync(1);
        var second = await waiter.ReceiveAsync();
        Assert.Equal(["/bp/1"], second.As<LeaseMessage>().Paths);
        answered.Add(second.Id);
        Assert.True(await SilentAsync(waiter));
        Assert.Equal(4, await WaitersAsync(server));

        // A third grant leaves a slot for the PING once all six ACQUIREs are read.
        await ReleaseAsync(2);
        var frames = new List<RawNative.Received> { await waiter.ReceiveAsync(), await waiter.ReceiveAsync() };
        Assert.Contains(frames, f => f is { Type: FrameType.Pong, Id: 20u });
        answered.Add(Assert.Single(frames, f => f.Type == FrameType.Lease).Id);
        for (var i = 3; i < 6; i++)
        {
            await ReleaseAsync(i);
            var lease = await waiter.ReceiveAsync();
            Assert.Equal([$"/bp/{i}"], lease.As<LeaseMessage>().Paths);
            answered.Add(lease.Id);
        }
        Assert.Equal([10u, 11u, 12u, 13u, 14u, 15u], answered);
        Assert.Equal(0, await WaitersAsync(server));
        Assert.True(await SilentAsync(waiter));
    }

    [Fact]
    public async Task A_flood_of_connections_over_the_limit_is_closed_and_an_established_one_is_served()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:MaxConnections=3"]);
        var established = new List<RawNative>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                established.Add((await RawNative.OpenAsync(server.NativeEndPoint)).Connection);
            }
            var refused = 0;
            for (var i = 0; i < 20; i++)
            {
                // Over the limit the connection is accepted and closed at once, with nothing written (not even to a HELLO).
                await using var extra = await RawNative.ConnectAsync(server.NativeEndPoint);
                try
                {
                    await extra.SendAsync(1, new HelloMessage(1, null, "flood"));
                }
                catch (SocketException)
                {
                }
                try
                {
                    var frame = await extra.ReceiveAsync();
                    Assert.Fail($"a connection over the limit got {frame.Type}");
                }
                catch (Exception ex) when (ex is EndOfStreamException or SocketException)
                {
                    refused++;
                }
            }
            Assert.Equal(20, refused);
            for (var i = 0; i < established.Count; i++)
            {
                await established[i].SendAsync((uint)(2 + i), new PingMessage([(byte)i]));
                var pong = await established[i].ReceiveAsync();
                Assert.Equal((FrameType.Pong, (uint)(2 + i)), (pong.Type, pong.Id));
            }
            await established[0].SendAsync(9, Acquire("/flood/a"));
            Assert.Equal(["/flood/a"], (await established[0].ReceiveAsync()).As<LeaseMessage>().Paths);

            // One closes: its place is free again (bounded retry: the server sees the close asynchronously).
            await established[0].DisposeAsync();
            established.RemoveAt(0);
            var deadline = DateTime.UtcNow + TestServer.Timeout;
            RawNative? again = null;
            while (again is null && DateTime.UtcNow < deadline)
            {
                var attempt = await RawNative.ConnectAsync(server.NativeEndPoint);
                try
                {
                    await attempt.SendAsync(1, new HelloMessage(1, null, "again"));
                    var welcome = await attempt.ReceiveAsync();
                    Assert.Equal(FrameType.Welcome, welcome.Type);
                    again = attempt;
                }
                catch (Exception ex) when (ex is EndOfStreamException or SocketException)
                {
                    await attempt.DisposeAsync();
                    await Task.Delay(50);
                }
            }
            Assert.NotNull(again);
            established.Add(again);
        }
        finally
        {
            foreach (var connection in established)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_hello_with_a_key_that_does_not_hold_gets_invalid_credentials_then_the_connection_closes()
    {
        await using var server = await SecuredServer.StartAsync();
        // The right key id with another secret, and a key nobody issued.
        foreach (var key in new[] { ApiKeys.Create("ci-key"), ApiKeys.Create("nobody-key"), "not a key at all" })
        {
            await using var connection = await RawNative.ConnectAsync(server.Server.NativeEndPoint);
            await connection.SendAsync(1, new HelloMessage(1, key, "bad-key"));
            var frame = await connection.ReceiveAsync();
            Assert.Equal(0u, frame.Id);
            Assert.Equal(("invalid-credentials", 401), (frame.Error().Code, (int)frame.Error().Status));
            Assert.True(await connection.ClosedAsync());
        }
        // The same key is refused by HTTP with the same code.
        using var http = await server.SendAsync(null, HttpMethod.Get, "/v1/stats", bearer: ApiKeys.Create("ci-key"));
        await HttpAssert.AssertProblemAsync(http, HttpStatusCode.Unauthorized, "invalid-credentials");
    }

    [Fact]
    public async Task A_frame_sent_a_byte_at_a_time_must_end_within_the_idle_time_while_a_steady_connection_stays()
    {
        // An idle time of 2 s: a byte every 500 ms keeps the connection from being idle, not the frame from being late.
        await using var server = await TestServer.StartAsync(["--Leasehold:KeepAliveSeconds=2"]);
        var (slow, welcome) = await RawNative.OpenAsync(server.NativeEndPoint);
        await using var _ = slow;
        Assert.Equal(2000u, welcome.IdleMs);
        var (steady, _) = await RawNative.OpenAsync(server.NativeEndPoint);
        await using var __ = steady;
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        NativeFrames.Write(output, 2, Acquire("/trickle/a"));
        var frame = output.WrittenMemory.ToArray();

        var clock = System.Diagnostics.Stopwatch.StartNew();
        RawNative.Received? refused = null;
        var closed = false;
        for (var sent = 0; sent < frame.Length - 1 && refused is null && !closed; sent++)
        {
            Assert.True(clock.Elapsed < TestServer.Timeout, "no refusal of the late frame");
            try
            {
                await slow.SendRawAsync([frame[sent]]);
            }
            catch (SocketException)
            {
                // Closed under a byte in flight: the ERROR may be lost with the reset; the closing is what counts.
                closed = true;
                break;
            }
            // The steady connection pings on, each answered, while the slow one is still sending its frame.
            await steady.SendAsync((uint)(100 + sent), new PingMessage([]));
            Assert.Equal(FrameType.Pong, (await steady.ReceiveAsync()).Type);
            try
            {
                refused = await slow.ReceiveAsync(TimeSpan.FromMilliseconds(500));
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception ex) when (ex is SocketException or EndOfStreamException)
            {
                closed = true;
            }
        }
        Assert.True(refused is not null || closed, "the connection sending a frame a byte at a time was neither refused nor closed");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"refused after {clock.Elapsed}");
        if (refused is not null)
        {
            Assert.Equal((0u, "protocol-error", 408), (refused.Id, refused.Error().Code, (int)refused.Error().Status));
            Assert.True(await slow.ClosedAsync());
        }
        await steady.SendAsync(500, Acquire("/trickle/a"));
        Assert.Equal(FrameType.Lease, (await steady.ReceiveAsync()).Type);
    }

    [Fact]
    public async Task A_hello_with_a_client_name_over_256_bytes_is_refused()
    {
        await using var server = await TestServer.StartAsync();
        await using var connection = await RawNative.ConnectAsync(server.NativeEndPoint);
        await connection.SendAsync(1, new HelloMessage(1, null, new string('é', 129)));
        var frame = await connection.ReceiveAsync();
        Assert.Equal((0u, "protocol-error", 400), (frame.Id, frame.Error().Code, (int)frame.Error().Status));
        Assert.Contains("256 bytes", frame.Error().Detail, StringComparison.Ordinal);
        Assert.True(await connection.ClosedAsync());
        // 256 bytes exactly is a name.
        var (named, _) = await OpenNamedAsync(server, new string('é', 128));
        await named.DisposeAsync();
    }

    private static async Task<(RawNative, WelcomeMessage)> OpenNamedAsync(TestServer server, string name)
    {
        var connection = await RawNative.ConnectAsync(server.NativeEndPoint);
        await connection.SendAsync(1, new HelloMessage(1, null, name));
        var frame = await connection.ReceiveAsync();
        Assert.Equal(FrameType.Welcome, frame.Type);
        return (connection, frame.As<WelcomeMessage>());
    }

    [Fact]
    public async Task An_error_whose_holders_do_not_fit_a_frame_is_sent_without_them_and_the_connection_goes_on()
    {
        // Frames of 1 KiB at most; four shared holders with long owners make the locked error's holder list larger.
        await using var server = await TestServer.StartAsync(["--Leasehold:Native:MaxFrameBytes=1024"]);
        for (var i = 0; i < 4; i++)
        {
            var owner = new string((char)('a' + i), 250);
            using var taken = await server.Client.PostAsync(new Uri("/v1/leases", UriKind.Relative),
                new StringContent($$"""{"path": "/big", "owner": "{{owner}}", "mode": "shared", "ttl": 60}"""));
            Assert.Equal(HttpStatusCode.Created, taken.StatusCode);
        }
        var (connection, welcome) = await RawNative.OpenAsync(server.NativeEndPoint);
        await using var native = connection;
        Assert.Equal(1024u, welcome.MaxFrameBytes);

        await native.SendAsync(2, Acquire("/big"));
        var locked = await native.ReceiveAsync();
        Assert.True(locked.Payload.Length + NativeProtocol.MinLength <= 1024, $"an ERROR of {locked.Payload.Length} bytes");
        Assert.Equal((2u, "locked", 409), (locked.Id, locked.Error().Code, (int)locked.Error().Status));
        await native.SendAsync(3, Acquire("/small"));
        Assert.Equal(["/small"], (await native.ReceiveAsync()).As<LeaseMessage>().Paths);
    }

    [Fact]
    public async Task A_call_whose_grant_is_too_large_for_a_frame_is_refused_and_the_lease_given_back()
    {
        // Frames of 1 KiB; a CALL acquiring six paths of 120 bytes fits a frame, and its answer (the paths again, and the
        // lease's other fields) does not.
        await using var server = await TestServer.StartAsync(["--Leasehold:Native:MaxFrameBytes=1024"]);
        var (connection, _) = await RawNative.OpenAsync(server.NativeEndPoint);
        await using var native = connection;
        var paths = Enumerable.Range(0, 6).Select(i => $"/big/{i}-{new string('p', 120)}").ToArray();
        await native.SendAsync(2, new CallMessage("POST", "/v1/leases", JsonSerializer.SerializeToUtf8Bytes(new { paths, owner = "big" })));
        var refused = await native.ReceiveAsync();
        Assert.Equal((2u, "frame-too-large"), (refused.Id, refused.Error().Code));
        // Nobody saw the token: the lease is not left behind.
        var api = new Api(server.Client);
        foreach (var path in paths)
        {
            using var resource = await server.Client.GetAsync(new Uri("/v1/resources" + path, UriKind.Relative));
            Assert.Empty(JsonDocument.Parse(await resource.Content.ReadAsStringAsync()).RootElement.GetProperty("holders").EnumerateArray());
        }
        await api.AssertServesAsync(paths[0]);
    }

    [Fact]
    public async Task A_pool_lease_too_large_for_a_frame_comes_without_attributes_or_is_refused_and_given_back()
    {
        // Frames of 1 KiB; three phones whose attributes are 600 bytes each, and twenty sims whose paths alone fill a frame.
        await using var server = await TestServer.StartAsync(["--Leasehold:Native:MaxFrameBytes=1024"]);
        var api = new Api(server.Client);
        for (var i = 0; i < 3; i++)
        {
            using var declared = await api.SendAsync(HttpMethod.Put, $"/v1/resources/lab/phone-{i}", null,
                $$"""{"kind": "phone", "notes": "{{new string('n', 600)}}"}""");
            Assert.Equal(HttpStatusCode.OK, declared.StatusCode);
        }
        for (var i = 0; i < 20; i++)
        {
            using var declared = await api.SendAsync(HttpMethod.Put, $"/v1/resources/lab/sim-{i}-{new string('s', 40)}", null, """{"kind": "sim"}""");
            Assert.Equal(HttpStatusCode.OK, declared.StatusCode);
        }
        var (connection, _) = await RawNative.OpenAsync(server.NativeEndPoint);
        await using var native = connection;
        static AcquireMessage Pool(string kind, int count, long waitMs = 0)
            => new() { Groups = [new PoolGroupSpec("/lab", count, Encoding.UTF8.GetBytes($$"""{"kind": "{{kind}}"}"""))], WaitMs = waitMs, TtlMs = 60_000 };

        // Two phones: 1.2 KB of attributes do not fit, the paths and groups do.
        await native.SendAsync(2, Pool("phone", 2));
        var frame = await native.ReceiveAsync();
        Assert.True(frame.Payload.Length + NativeProtocol.MinLength <= 1024, $"a LEASE of {frame.Payload.Length} bytes");
        var phones = frame.As<LeaseMessage>();
        var resources = JsonDocument.Parse(phones.Resources!).RootElement.EnumerateArray().ToArray();
        Assert.Equal(phones.Paths, resources.Select(r => r.GetProperty("path").GetString()));
        Assert.All(resources, r => Assert.Equal(JsonValueKind.Null, r.GetProperty("attributes").ValueKind));
        Assert.NotNull(phones.Token);

        // Twenty sims: not even the paths fit. The ACQUIRE gets frame-too-large and its grant is given back at once.
        await native.SendAsync(3, Pool("sim", 20));
        Assert.Equal((3u, "frame-too-large", 413), ((await native.ReceiveAsync()) is var refused ? (refused.Id, refused.Error().Code, (int)refused.Error().Status) : default));
        await ServerTestBase.WaitUntilAsync(async () => (await HeldSimsAsync(api)) == 0, "the undelivered grant of twenty sims is released");

        // The same when the grant comes after a wait: one sim held over HTTP, the native ACQUIRE queues for all twenty.
        var held = await api.AcquireAsync($"/lab/sim-0-{new string('s', 40)}", 60);
        await native.SendAsync(4, Pool("sim", 20, waitMs: 30_000));
        await ServerTestBase.WaitUntilAsync(async () => await WaitersAsync(server) == 1, "the ACQUIRE of twenty sims waits");
        using (var released = await api.SendAsync(HttpMethod.Delete, $"/v1/leases/{held.Id}", held.Token))
        {
            Assert.True(released.IsSuccessStatusCode);
        }
        Assert.Equal((4u, "frame-too-large"), ((await native.ReceiveAsync()) is var late ? (late.Id, late.Error().Code) : default));
        await ServerTestBase.WaitUntilAsync(async () => (await HeldSimsAsync(api)) == 0, "the undelivered grant after a wait is released");

        // The connection goes on, and the phones' lease is read back the same way (GET_LEASE).
        await native.SendAsync(5, new GetLeaseMessage(phones.Id));
        var again = (await native.ReceiveAsync()).As<LeaseMessage>();
        Assert.Equal(phones.Paths, again.Paths);
    }

    private static async Task<int> HeldSimsAsync(Api api)
        => (await api.GetJsonAsync("/v1/resources?prefix=/lab")).GetProperty("resources").EnumerateArray()
            .Count(r => r.GetProperty("path").GetString()!.StartsWith("/lab/sim-", StringComparison.Ordinal));

    [Fact]
    public async Task A_denied_request_gives_its_rate_limit_permit_back()
    {
        // Two requests in progress at most: if a refusal kept its permit, the third refusal would already be rate-limited.
        await using var server = await SecuredServer.StartAsync(null, "--Leasehold:Limits:MaxPendingPerPrincipal=2");
        var (connection, _) = await RawNative.OpenAsync(server.Server.NativeEndPoint, server.Keys["ci"]);
        await using var ci = connection;
        for (uint id = 2; id < 12; id++)
        {
            await ci.SendAsync(id, Acquire("/lab/phone"));
            var denied = await ci.ReceiveAsync();
            Assert.Equal((id, "forbidden"), (denied.Id, denied.Error().Code));
        }
        await ci.SendAsync(20, Acquire("/ci/build"));
        Assert.Equal(["/ci/build"], (await ci.ReceiveAsync()).As<LeaseMessage>().Paths);
    }

    [Fact]
    public async Task A_principal_without_the_right_gets_the_code_http_gives_and_the_connection_goes_on()
    {
        await using var server = await SecuredServer.StartAsync();
        var (ciConnection, _) = await RawNative.OpenAsync(server.Server.NativeEndPoint, server.Keys["ci"]);
        var (anonymousConnection, _) = await RawNative.OpenAsync(server.Server.NativeEndPoint);
        await using var ci = ciConnection;
        await using var anonymous = anonymousConnection;

        await ci.SendAsync(2, Acquire("/lab/phone"));
        var denied = await ci.ReceiveAsync();
        Assert.Equal((2u, "forbidden", 403), (denied.Id, denied.Error().Code, (int)denied.Error().Status));
        using (var http = await server.SendAsync("ci", HttpMethod.Post, "/v1/leases", """{"path": "/lab/phone"}"""))
        {
            await HttpAssert.AssertProblemAsync(http, HttpStatusCode.Forbidden, "forbidden");
        }
        Assert.Empty(await server.HoldersAsync("/lab/phone"));

        await anonymous.SendAsync(2, Acquire("/ci/build"));
        var unauthenticated = await anonymous.ReceiveAsync();
        Assert.Equal(("unauthenticated", 401), (unauthenticated.Error().Code, (int)unauthenticated.Error().Status));
        using (var http = await server.SendAsync(null, HttpMethod.Post, "/v1/leases", """{"path": "/ci/build"}"""))
        {
            await HttpAssert.AssertProblemAsync(http, HttpStatusCode.Unauthorized, "unauthenticated");
        }

        // The connection stays open and the right path is granted.
        await ci.SendAsync(3, Acquire("/ci/build"));
        var lease = (await ci.ReceiveAsync()).As<LeaseMessage>();
        Assert.Equal(("/ci/build", "ci"), (lease.Paths[0], lease.Principal));
        Assert.Equal([(long)lease.Id], await server.HoldersAsync("/ci/build"));
    }

    [Fact]
    public async Task A_connection_whose_key_is_revoked_is_closed_and_the_key_is_refused_on_the_next()
    {
        await using var server = await SecuredServer.StartAsync();
        var (labConnection, _) = await RawNative.OpenAsync(server.Server.NativeEndPoint, server.Keys["lab"]);
        await using var lab = labConnection;
        // Served while the key holds.
        await lab.SendAsync(2, new PingMessage([1, 2, 3]));
        Assert.Equal(FrameType.Pong, (await lab.ReceiveAsync()).Type);

        await server.RewriteAsync(security => security["ApiKeys"]!.AsObject().Remove("lab-key"));
        // Checked once, at HELLO: the connection must not outlive the key.
        Assert.True(await lab.ClosedAsync(SecuredServer.Timeout), "a connection with a revoked key stayed open");
        await using var again = await RawNative.ConnectAsync(server.Server.NativeEndPoint);
        await again.SendAsync(1, new HelloMessage(1, server.Keys["lab"], "revoked"));
        var refused = await again.ReceiveAsync();
        Assert.Equal(("invalid-credentials", 401), (refused.Error().Code, (int)refused.Error().Status));
    }

    [Fact]
    public async Task A_connection_is_closed_when_its_key_expires()
    {
        // The expiry is set from the start (a later settings change would close keyed connections anyway).
        var expires = DateTimeOffset.UtcNow.AddSeconds(4);
        await using var server = await SecuredServer.StartAsync(null, $"--Leasehold:Security:ApiKeys:ci-key:Expires={expires:O}");
        var (ciConnection, _) = await RawNative.OpenAsync(server.Server.NativeEndPoint, server.Keys["ci"]);
        await using var ci = ciConnection;
        await ci.SendAsync(2, new PingMessage([7]));
        Assert.Equal(FrameType.Pong, (await ci.ReceiveAsync()).Type);
        Assert.True(await ci.ClosedAsync(SecuredServer.Timeout), "a connection outlived its key's expiry");
        Assert.True(DateTimeOffset.UtcNow >= expires.AddMilliseconds(-100), $"closed {(expires - DateTimeOffset.UtcNow).TotalMilliseconds:0} ms before the key expired");
    }
}

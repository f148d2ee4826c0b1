using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Leasehold.Protocol.Native;

namespace Leasehold.Crash.Tests;

/// <summary>The native port on a cluster (docs/protocol.md, cluster): followers redirect to the leader's native URL, a node that stops leading closes its connections.</summary>
public sealed class ClusterNativeTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private readonly string _root = Directory.CreateTempSubdirectory("leasehold-cluster-native-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static AcquireMessage Acquire(string path) => new() { Paths = [path], TtlMs = 60_000 };

    [Fact]
    public async Task A_follower_answers_no_leader_naming_the_leaders_native_url_and_a_node_that_stops_leading_closes_its_connections()
    {
        using var cluster = new ClusterNodes(3, _root);
        await cluster.StartAllAsync(TimeSpan.FromSeconds(60));
        var leader = await cluster.LeaderAsync(TimeSpan.FromSeconds(60));
        var follower = (leader + 1) % 3;

        // A follower: WELCOME says so, PING is answered, an ACQUIRE is refused with the leader's native URL.
        await using (var atFollower = await Native.OpenAsync(cluster[follower].NativePort))
        {
            Assert.Equal("follower", atFollower.Welcome.Role);
            await atFollower.SendAsync(2, new PingMessage([1]));
            Assert.Equal(FrameType.Pong, (await atFollower.ReceiveAsync()).Type);
            var redirect = await NoLeaderAsync(atFollower, "/native/cluster");
            Assert.Equal($"leasehold://127.0.0.1:{cluster[leader].NativePort}", redirect);
        }

        // The client goes there, and is served.
        var atLeader = await Native.OpenAsync(cluster[leader].NativePort);
        await using (atLeader)
        {
            Assert.Equal("leader", atLeader.Welcome.Role);
            await atLeader.SendAsync(2, Acquire("/native/cluster"));
            var granted = await atLeader.ReceiveAsync();
            Assert.True(granted.Type == FrameType.Lease, $"expected LEASE, got {granted.Describe()}");

            // The leader stops leading (frozen while the others elect another, then thawed): it closes the connection.
            cluster.Freeze(leader);
            var next = await cluster.LeaderAsync(TimeSpan.FromSeconds(60), except: leader);
            cluster.Thaw(leader);
            Assert.True(await atLeader.ClosedAsync(Bound), "the old leader kept its native connection open");

            // Reconnected to the old leader, the client is sent to the new one.
            await using var again = await Native.OpenAsync(cluster[leader].NativePort);
            Assert.Equal($"leasehold://127.0.0.1:{cluster[next].NativePort}", await NoLeaderAsync(again, "/native/cluster/2"));
        }
    }

    /// <summary>
    /// The .NET client given every node, waiting in the leader's queue when the leader is killed: it re-sends its
    /// acquire (with its idempotency key) to the new leader, queues again, and gets the lease when the holder, whose
    /// lease outlived the failover, releases it; one lease, with a larger fence.
    /// </summary>
    [Fact]
    public async Task The_client_waiting_on_a_leader_that_dies_queues_again_on_the_new_one_and_is_granted()
    {
        using var cluster = new ClusterNodes(3, _root);
        await cluster.StartAllAsync(TimeSpan.FromSeconds(60));
        var leader = await cluster.LeaderAsync(TimeSpan.FromSeconds(60));
        var options = new Leasehold.Client.LeaseholdClientOptions
        {
            Servers = [.. Enumerable.Range(0, 3).Select(i => new Uri($"leasehold://127.0.0.1:{cluster[i].NativePort}"))],
            RetryTimeout = TimeSpan.FromSeconds(30),
            Retries = 20,
        };
        using var holderClient = new Leasehold.Client.LeaseholdClient(options);
        using var waiterClient = new Leasehold.Client.LeaseholdClient(options);
        var path = $"/requeue/{Guid.NewGuid():N}";
        await using var holder = await holderClient.AcquireAsync(new() { Paths = [path], Ttl = TimeSpan.FromMinutes(10), Owner = "holder" });
        var waiting = waiterClient.AcquireAsync(new() { Paths = [path], Ttl = TimeSpan.FromMinutes(10), Wait = TimeSpan.FromSeconds(60), Owner = "waiter" });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await QueuedAsync(http, cluster[leader], path);

        await cluster[leader].KillAsync();
        var next = await cluster.LeaderAsync(TimeSpan.FromSeconds(60), except: leader);
        await QueuedAsync(http, cluster[next], path);
        Assert.False(waiting.IsCompleted, "the waiter was answered before the holder released");
        await holder.DisposeAsync();

        await using var granted = await waiting.WaitAsync(Bound);
        Assert.Equal("waiter", granted.Lease.Owner);
        Assert.True(granted.Fence > holder.Fence, $"fence {granted.Fence} after {holder.Fence}");
        using var resource = await http.GetAsync(new Uri(cluster[next].BaseAddress, $"v1/resources{path}"));
        var holders = JsonDocument.Parse(await resource.Content.ReadAsStringAsync()).RootElement.GetProperty("holders");
        Assert.Equal([granted.Id], holders.EnumerateArray().Select(h => h.GetProperty("id").GetInt64()));
    }

    /// <summary>Waits (bounded) until <paramref name="path"/>'s queue on <paramref name="node"/> holds one waiter.</summary>
    private static async Task QueuedAsync(HttpClient http, ServerProcess node, string path)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var resource = await http.GetAsync(new Uri(node.BaseAddress, $"v1/resources{path}"));
                if (resource.IsSuccessStatusCode
                    && JsonDocument.Parse(await resource.Content.ReadAsStringAsync()).RootElement.GetProperty("queue").GetArrayLength() == 1)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            Assert.True(clock.Elapsed < Bound, $"no waiter queued on {node.BaseAddress} for {path}");
            await Task.Delay(50);
        }
    }

    /// <summary>ACQUIREs at a node that does not lead until its no-leader names the leader (bounded: it may not know it yet).</summary>
    private static async Task<string> NoLeaderAsync(Native connection, string path)
    {
        var deadline = DateTime.UtcNow + Bound;
        for (uint id = 100; ; id++)
        {
            await connection.SendAsync(id, Acquire(path));
            var frame = await connection.ReceiveAsync();
            Assert.True(frame.Type == FrameType.Error, $"expected no-leader, got {frame.Type}");
            Assert.True(NativeFrames.TryParse<ErrorMessage>(new ReadOnlySequence<byte>(frame.Payload), out var error));
            Assert.Equal(("no-leader", 503), (error.Code, (int)error.Status));
            if (error.Extensions is { } extensions)
            {
                using var json = JsonDocument.Parse(extensions);
                return json.RootElement.GetProperty("leader").GetString()!;
            }
            Assert.True(DateTime.UtcNow < deadline, "no-leader never named the leader");
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Clamp(error.RetryAfterMs, 50, 1000)));
        }
    }

    /// <summary>A native connection with raw frames; every read bounded.</summary>
    private sealed class Native : IAsyncDisposable
    {
        private readonly Socket _socket;
        private byte[] _buffer = new byte[64 * 1024];
        private int _filled;

        private Native(Socket socket) => _socket = socket;

        public WelcomeMessage Welcome { get; private set; }

        public static async Task<Native> OpenAsync(int port)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using (var cts = new CancellationTokenSource(Bound))
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
            }
            var connection = new Native(socket);
            await connection.SendAsync(1, new HelloMessage(1, null, "cluster-test"));
            var frame = await connection.ReceiveAsync();
            Assert.True(frame.Type == FrameType.Welcome, $"expected WELCOME, got {frame.Describe()}");
            Assert.True(NativeFrames.TryParse<WelcomeMessage>(new ReadOnlySequence<byte>(frame.Payload), out var welcome));
            connection.Welcome = welcome;
            return connection;
        }

        public async Task SendAsync<T>(uint id, T message) where T : struct, INativeMessage<T>
        {
            var output = new ArrayBufferWriter<byte>();
            NativeFrames.Write(output, id, message);
            using var cts = new CancellationTokenSource(Bound);
            await _socket.SendAsync(output.WrittenMemory, SocketFlags.None, cts.Token);
        }

        public async Task<Received> ReceiveAsync(TimeSpan? within = null)
        {
            using var cts = new CancellationTokenSource(within ?? Bound);
            while (true)
            {
                var sequence = new ReadOnlySequence<byte>(_buffer, 0, _filled);
                if (FrameReader.TryRead(ref sequence, 16 << 20, out var frame, out _) == FrameStatus.Frame)
                {
                    var received = new Received(frame.Type, frame.Id, frame.Payload.ToArray());
                    var used = _filled - (int)sequence.Length;
                    Buffer.BlockCopy(_buffer, used, _buffer, 0, _filled - used);
                    _filled -= used;
                    return received;
                }
                if (_filled == _buffer.Length)
                {
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }
                var read = await _socket.ReceiveAsync(_buffer.AsMemory(_filled), SocketFlags.None, cts.Token);
                if (read == 0)
                {
                    throw new EndOfStreamException("the server closed the connection");
                }
                _filled += read;
            }
        }

        /// <summary>Whether the server closes the connection (after any frames it still sends) within the bound.</summary>
        public async Task<bool> ClosedAsync(TimeSpan within)
        {
            var deadline = DateTime.UtcNow + within;
            try
            {
                while (true)
                {
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero)
                    {
                        return false;
                    }
                    await ReceiveAsync(left);
                }
            }
            catch (Exception ex) when (ex is EndOfStreamException or SocketException)
            {
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        public ValueTask DisposeAsync()
        {
            _socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private sealed record Received(FrameType Type, uint Id, byte[] Payload)
    {
        public string Describe() => Type == FrameType.Error && NativeFrames.TryParse<ErrorMessage>(new ReadOnlySequence<byte>(Payload), out var e)
            ? $"ERROR {e.Code}: {e.Detail}" : Type.ToString();
    }
}

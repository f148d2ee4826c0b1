using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Leasehold.Client.Tests;

/// <summary>
/// A loopback port where nothing listens: handed out by the system and closed again, as a node that is down.
/// </summary>
internal static class DeadNode
{
    public static Uri Address(ClientTransport transport = ClientTransport.Http) => Loopback(transport, Port());

    /// <summary>A loopback port that was free a moment ago.</summary>
    public static int Port()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary><c>http://127.0.0.1:port/</c> or <c>leasehold://127.0.0.1:port</c>.</summary>
    public static Uri Loopback(ClientTransport transport, int port)
        => new(transport == ClientTransport.Native ? $"leasehold://127.0.0.1:{port}" : $"http://127.0.0.1:{port}/");
}

/// <summary>A fake peer: where it listens, and how many requests it answered.</summary>
internal interface IFakeNode : IAsyncDisposable
{
    Uri Address { get; }

    int Requests { get; }
}

/// <summary>
/// A fake node of a cluster that has no leader: it reads each request's head and answers every one with 503
/// problem+json <c>no-leader</c> (or the code it is given) and a <c>Retry-After</c>. Not our server: a peer that
/// says what a cluster node between leaders says, so a client's failover can be watched.
/// </summary>
internal sealed class NoLeaderNode : IFakeNode
{
    /// <summary>A node without a leader that speaks <paramref name="transport"/>.</summary>
    public static IFakeNode For(ClientTransport transport, string code = "no-leader", int retryAfterSeconds = 1)
        => transport == ClientTransport.Native ? new NativeNoLeaderNode(code, retryAfterSeconds) : new NoLeaderNode(code, retryAfterSeconds);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly string _code;
    private readonly int _retryAfter;
    private int _requests;

    public NoLeaderNode(string code = "no-leader", int retryAfterSeconds = 1)
    {
        _code = code;
        _retryAfter = retryAfterSeconds;
        _listener.Start();
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    public Uri Address { get; }

    /// <summary>How many requests it has answered.</summary>
    public int Requests => Volatile.Read(ref _requests);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = AnswerAsync(client);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task AnswerAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var head = new StringBuilder();
                var buffer = new byte[4096];
                // Bounded: a request head is small; the body (if any) is left unread, and the connection closed.
                while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal) && head.Length < 64 * 1024)
                {
                    var read = await stream.ReadAsync(buffer, _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }
                    head.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }
                Interlocked.Increment(ref _requests);
                var body = $$"""{"type":"urn:leasehold:problem:{{_code}}","title":"No leader","status":503,"detail":"an election is under way","code":"{{_code}}"}""";
                var answer = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
                    + $"Retry-After: {_retryAfter}\r\nConnection: close\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";
                await stream.WriteAsync(Encoding.UTF8.GetBytes(answer), _stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
            {
                // The client went away, or the node stopped.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}

/// <summary>
/// A TCP relay in front of the real server that can die as a node dies: <see cref="Kill"/> resets every
/// connection through it and stops listening, so later connections are refused. With
/// <c>dropAnswers</c> it passes requests on but never the server's answers, as a network that loses
/// them: the server acts on the request, the client never hears of it. Over the native protocol the first frame
/// of each connection (the server's WELCOME) still passes, so the client gets as far as sending its requests.
/// </summary>
internal sealed class DyingRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly bool _dropAnswers;
    private readonly ClientTransport _transport;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _sockets = [];
    private readonly Task _accepting;
    private int _connections;

    public DyingRelay(int targetPort, bool dropAnswers, ClientTransport transport = ClientTransport.Http)
    {
        _targetPort = targetPort;
        _dropAnswers = dropAnswers;
        _transport = transport;
        _listener.Start();
        Address = DeadNode.Loopback(transport, ((IPEndPoint)_listener.LocalEndpoint).Port);
        _accepting = AcceptAsync();
    }

    public Uri Address { get; }

    /// <summary>How many connections came in.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Resets every connection (the client sees "connection reset") and refuses new ones from now on.</summary>
    public void Kill()
    {
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                try
                {
                    // Disposed already (by its relay, or an earlier kill): Client is null then.
                    socket.Client?.LingerState = new LingerOption(true, 0);
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    // Closed already.
                }
                socket.Dispose();
            }
        }
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var downstream = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
                var upstream = new TcpClient();
                lock (_sockets)
                {
                    _sockets.Add(downstream);
                    _sockets.Add(upstream);
                }
                _ = RelayAsync(downstream, upstream);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopped or killed.
        }
    }

    private async Task RelayAsync(TcpClient downstream, TcpClient upstream)
    {
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            await Task.WhenAll(PumpAsync(downstream.GetStream(), upstream.GetStream(), forward: true),
                PumpAsync(upstream.GetStream(), downstream.GetStream(), forward: !_dropAnswers));
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // A side closed, or the relay was killed.
        }
        finally
        {
            downstream.Dispose();
            upstream.Dispose();
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool forward)
    {
        var buffer = new byte[16 * 1024];
        if (!forward && _transport == ClientTransport.Native)
        {
            // The handshake's answer passes: a frame's first four bytes are the length of the rest.
            await from.ReadExactlyAsync(buffer.AsMemory(0, 4), _stop.Token);
            var rest = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(buffer);
            await from.ReadExactlyAsync(buffer.AsMemory(4, rest), _stop.Token);
            await to.WriteAsync(buffer.AsMemory(0, 4 + rest), _stop.Token);
        }
        while (true)
        {
            var read = await from.ReadAsync(buffer, _stop.Token);
            if (read == 0)
            {
                to.Socket.Shutdown(SocketShutdown.Send);
                return;
            }
            if (forward)
            {
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Kill();
        await _accepting;
        _stop.Dispose();
    }
}

/// <summary>
/// A fake cluster node without a leader over the native protocol: it welcomes a client's HELLO and answers every
/// request with an ERROR frame of the code it is given (503), with a retry-after. Not our server: a peer that says
/// what a native node between leaders says.
/// </summary>
internal sealed class NativeNoLeaderNode : IFakeNode
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly string _code;
    private readonly int _retryAfter;
    private int _requests;

    private readonly Uri? _leader;

    /// <summary>With <paramref name="leader"/>, its errors name that node as the leader, as a follower that knows it does.</summary>
    public NativeNoLeaderNode(string code, int retryAfterSeconds, Uri? leader = null)
    {
        _leader = leader;
        _code = code;
        _retryAfter = retryAfterSeconds;
        _listener.Start();
        Address = DeadNode.Loopback(ClientTransport.Native, ((IPEndPoint)_listener.LocalEndpoint).Port);
        _accepting = AcceptAsync();
    }

    public Uri Address { get; }

    public int Requests => Volatile.Read(ref _requests);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = AnswerAsync(client);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task AnswerAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                // Bounded: at most 64 frames per connection, each at most 64 KiB.
                for (var frames = 0; frames < 64; frames++)
                {
                    var (type, id) = await NativeFrames.SkipAsync(stream, _stop.Token);
                    if (type == NativeFrames.Hello)
                    {
                        await stream.WriteAsync(NativeFrames.Welcome("follower"), _stop.Token);
                        continue;
                    }
                    Interlocked.Increment(ref _requests);
                    var extensions = _leader is null ? null : $$"""{"leader":"{{_leader.AbsoluteUri.TrimEnd('/')}}"}""";
                    await stream.WriteAsync(NativeFrames.Error(id, _code, 503, "an election is under way", _retryAfter * 1000L, extensions), _stop.Token);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException or EndOfStreamException)
            {
                // The client went away, or the node stopped.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}

using System.Net;
using System.Net.Sockets;

namespace Leasehold.Client.Tests;

/// <summary>
/// A TCP relay in front of the real server that can be turned into a black hole: after
/// <see cref="Partition"/> every byte in either direction is read and dropped while the connections
/// stay open, which is what a client sees when the network between it and the server fails silently
/// (no reset, no answer). <see cref="FreezeOpenConnections"/> does the same to the connections open now only: later
/// ones are relayed, as when one path through the network died and a new connection takes another.
/// </summary>
public sealed class BlackholeProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _sockets = [];
    private readonly List<Relay> _relays = [];
    private readonly Task _accepting;
    private volatile bool _partitioned;

    /// <summary>A relay to <paramref name="targetPort"/>; with <paramref name="native"/>, its address is <c>leasehold://</c>, else <c>http://</c>.</summary>
    public BlackholeProxy(int targetPort, bool native = false)
    {
        _targetPort = targetPort;
        _listener.Start();
        var port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        Address = new Uri(native ? $"leasehold://127.0.0.1:{port}" : $"http://127.0.0.1:{port}/");
        _accepting = AcceptAsync();
    }

    public Uri Address { get; }

    /// <summary>From now on, nothing gets through in either direction.</summary>
    public void Partition() => _partitioned = true;

    /// <summary>From now on, nothing gets through the connections open now (they stay open); new ones are relayed.</summary>
    /// <returns>How many open connections were frozen.</returns>
    public int FreezeOpenConnections() => FreezeConnections(_ => true);

    /// <summary>
    /// Freezes the open connections whose client last sent bytes that <paramref name="lastSent"/> accepts (as ASCII; for
    /// HTTP/1.1, the start of its latest request): e.g. the one a stream was asked on.
    /// </summary>
    /// <returns>How many open connections were frozen.</returns>
    public int FreezeConnections(Func<string, bool> lastSent)
    {
        lock (_sockets)
        {
            var frozen = 0;
            foreach (var relay in _relays.Where(r => lastSent(r.LastSent)))
            {
                relay.Frozen = true;
                frozen++;
            }
            return frozen;
        }
    }

    private volatile TaskCompletionSource? _held;

    /// <summary>From now on the server's bytes wait in the relay (nothing is lost) until <see cref="PassReplies"/>.</summary>
    public void HoldReplies() => Interlocked.CompareExchange(ref _held, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);

    /// <summary>Lets the server's bytes held since <see cref="HoldReplies"/> through, in order, and what follows.</summary>
    public void PassReplies() => Interlocked.Exchange(ref _held, null)?.TrySetResult();

    private int _accepted;
    private long _fromServer;

    /// <summary>How many connections were accepted so far.</summary>
    public int Connections => Volatile.Read(ref _accepted);

    /// <summary>How many bytes of the server's reached the client so far.</summary>
    public long BytesFromServer => Interlocked.Read(ref _fromServer);

    /// <summary>One relayed connection.</summary>
    private sealed class Relay
    {
        public volatile bool Frozen;

        public volatile string LastSent = "";
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var downstream = await _listener.AcceptTcpClientAsync(_stop.Token);
                var upstream = new TcpClient();
                var relay = new Relay();
                lock (_sockets)
                {
                    _sockets.Add(downstream);
                    _sockets.Add(upstream);
                    _relays.Add(relay);
                }
                Interlocked.Increment(ref _accepted);
                _ = RelayAsync(downstream, upstream, relay);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task RelayAsync(TcpClient downstream, TcpClient upstream, Relay relay)
    {
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            await Task.WhenAll(PumpAsync(downstream.GetStream(), upstream.GetStream(), relay, fromServer: false),
                PumpAsync(upstream.GetStream(), downstream.GetStream(), relay, fromServer: true));
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // A side closed, or the proxy stopped.
        }
        finally
        {
            lock (_sockets)
            {
                _relays.Remove(relay);
            }
            downstream.Dispose();
            upstream.Dispose();
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, Relay relay, bool fromServer)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await from.ReadAsync(buffer, _stop.Token);
            if (read == 0)
            {
                if (!_partitioned && !relay.Frozen)
                {
                    to.Socket.Shutdown(SocketShutdown.Send);
                }
                return;
            }
            if (!fromServer)
            {
                relay.LastSent = System.Text.Encoding.ASCII.GetString(buffer, 0, Math.Min(read, 256));
            }
            if (fromServer && _held is { } held)
            {
                await held.Task.WaitAsync(_stop.Token);
            }
            if (!_partitioned && !relay.Frozen)
            {
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                if (fromServer)
                {
                    Interlocked.Add(ref _fromServer, read);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }
        await _accepting;
        _stop.Dispose();
    }
}

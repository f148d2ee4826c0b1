using System.Net;
using System.Net.Sockets;

namespace Leasehold.DistributedLock.Tests;

/// <summary>
/// A loopback TCP proxy in front of the test server, for what the network between does: cut every connection a while
/// after it was made (a proxy that closes idle or long requests), or keep the server's side of a connection open a while
/// after the client closed its side (so the server notices a dropped request late).
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly DnsEndPoint _target;
    private readonly TimeSpan? _cutAfter;
    private readonly TimeSpan _lingerAfterClientClosed;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _cuts;

    /// <param name="target">The server's address (http://host:port).</param>
    /// <param name="cutAfter">Null, or how long after it was made each connection is cut (both sides closed).</param>
    /// <param name="lingerAfterClientClosed">How long the server's side stays open after the client closed its own.</param>
    public TcpProxy(Uri target, TimeSpan? cutAfter = null, TimeSpan lingerAfterClientClosed = default)
    {
        _target = new DnsEndPoint(target.Host, target.Port);
        _cutAfter = cutAfter;
        _lingerAfterClientClosed = lingerAfterClientClosed;
        _listener.Start();
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    /// <summary>Where clients connect instead of the server.</summary>
    public Uri Address { get; }

    /// <summary>How many connections were cut so far.</summary>
    public int Cuts => Volatile.Read(ref _cuts);

    private async Task AcceptAsync()
    {
        var pipes = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                pipes.Add(PipeAsync(client));
                pipes.RemoveAll(p => p.IsCompleted);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
        await Task.WhenAll(pipes);
    }

    private async Task PipeAsync(TcpClient client)
    {
        using var upstream = new TcpClient();
        using (client)
        {
            try
            {
                await upstream.ConnectAsync(_target.Host, _target.Port, _stop.Token);
                using var cut = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                if (_cutAfter is { } after)
                {
                    cut.CancelAfter(after);
                }
                var toServer = CopyAsync(client.GetStream(), upstream.GetStream(), cut.Token);
                var toClient = CopyAsync(upstream.GetStream(), client.GetStream(), cut.Token);
                var first = await Task.WhenAny(toServer, toClient);
                if (cut.IsCancellationRequested && !_stop.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _cuts);
                }
                else if (first == toServer && _lingerAfterClientClosed > TimeSpan.Zero)
                {
                    // The client closed its side: the server hears of it only later.
                    await Task.Delay(_lingerAfterClientClosed, _stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                }
                // Reset both sides at once (no half-closed connection).
                client.Client.LingerState = new LingerOption(true, 0);
                upstream.Client.LingerState = new LingerOption(true, 0);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
            {
                // The connection ends.
            }
        }
    }

    private static async Task CopyAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        try
        {
            await from.CopyToAsync(to, cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // One side closed, reset, or the connection was cut.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.WaitAsync(LockTestServer.Timeout);
        _stop.Dispose();
    }
}

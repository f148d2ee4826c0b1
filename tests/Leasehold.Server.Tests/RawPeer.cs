using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Leasehold.Server.Tests;

/// <summary>
/// A bare TCP client for the flood tests: it connects and then does only what the test says (nothing, or
/// a byte at a time), and tells without blocking what the server sent and whether the server closed it.
/// </summary>
public sealed class RawPeer : IDisposable
{
    private readonly Socket _socket;
    private readonly StringBuilder _received = new();
    private readonly byte[] _buffer = new byte[4096];

    private RawPeer(Socket socket) => _socket = socket;

    /// <summary>Everything the server sent so far (as of the last <see cref="Pump"/>).</summary>
    public string Received => _received.ToString();

    /// <summary>The server closed (or reset) the connection, as of the last <see cref="Pump"/>.</summary>
    public bool Closed { get; private set; }

    public static async Task<RawPeer> ConnectAsync(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = new CancellationTokenSource(TestServer.Timeout);
            await socket.ConnectAsync(endPoint, timeout.Token);
            return new RawPeer(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static IPEndPoint EndPointOf(Uri baseAddress) => new(IPAddress.Parse(baseAddress.Host), baseAddress.Port);

    /// <summary>Opens <paramref name="count"/> connections that send nothing.</summary>
    public static async Task<List<RawPeer>> FloodAsync(IPEndPoint endPoint, int count)
    {
        var peers = new List<RawPeer>(count);
        for (var i = 0; i < count; i++)
        {
            peers.Add(await ConnectAsync(endPoint));
        }
        return peers;
    }

    /// <summary>Sends; false when the server has already closed the connection.</summary>
    public bool TrySend(string text)
    {
        try
        {
            _socket.Send(Encoding.ASCII.GetBytes(text));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Takes in whatever has arrived, without blocking; returns <see cref="Closed"/>.</summary>
    public bool Pump()
    {
        // Bounded: each pass takes bytes that have already arrived, or ends.
        for (var pass = 0; pass < 1000 && !Closed && _socket.Poll(0, SelectMode.SelectRead); pass++)
        {
            try
            {
                var read = _socket.Receive(_buffer);
                if (read == 0)
                {
                    Closed = true;
                }
                _received.Append(Encoding.ASCII.GetString(_buffer, 0, read));
            }
            catch (SocketException)
            {
                Closed = true;
            }
        }
        return Closed;
    }

    /// <summary>Polls until <paramref name="condition"/> holds over the peers; false when <paramref name="limit"/> passed first.</summary>
    public static async Task<bool> EventuallyAsync(IReadOnlyList<RawPeer> peers, Func<IReadOnlyList<RawPeer>, bool> condition, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            foreach (var peer in peers)
            {
                peer.Pump();
            }
            if (condition(peers))
            {
                return true;
            }
            if (clock.Elapsed > limit)
            {
                return false;
            }
            await Task.Delay(20);
        }
    }

    /// <summary>Closes with a reset (RST) instead of an orderly close.</summary>
    public void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    public void Dispose() => _socket.Dispose();
}

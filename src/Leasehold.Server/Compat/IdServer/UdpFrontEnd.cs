using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Leasehold.Server.Compat.IdServer;

/// <summary>
/// idserver over UDP: one JSON request per datagram, one reply datagram to the sender. A datagram over
/// <see cref="MaxRequestBytes"/> is answered with an error; nothing a sender does stops the loop.
/// Requests run concurrently (up to <see cref="MaxInFlight"/>), so they share the writer's batches and syncs.
/// </summary>
internal sealed partial class UdpFrontEnd : IAsyncDisposable
{
    /// <summary>idserver's <c>MAX_PACKET</c>: the most a request may have.</summary>
    public const int MaxRequestBytes = 8192;

    private const int MaxInFlight = 256;

    private readonly Socket _socket;
    private readonly IdServerProtocol _protocol;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _slots = new(MaxInFlight);
    private readonly TaskTracker _requests = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    private UdpFrontEnd(Socket socket, IdServerProtocol protocol, ILogger logger)
    {
        _socket = socket;
        _protocol = protocol;
        _logger = logger;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Binds (throws <see cref="SocketException"/> when the address is taken) and starts receiving.</summary>
    public static UdpFrontEnd Start(IdServerSettings settings, IdServerProtocol protocol, ILogger logger)
    {
        var socket = new Socket(settings.Address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (settings.DualMode)
            {
                socket.DualMode = true;
            }
            socket.Bind(settings.EndPoint);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var frontEnd = new UdpFrontEnd(socket, protocol, logger);
        frontEnd._loop = Task.Run(frontEnd.ReceiveAsync);
        return frontEnd;
    }

    private async Task ReceiveAsync()
    {
        // Larger than any datagram, so an oversized one is seen whole and answered, not cut to 8192 bytes.
        var buffer = new byte[65536];
        EndPoint any = new IPEndPoint(_socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                var received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, token).ConfigureAwait(false);
                await _slots.WaitAsync(token).ConfigureAwait(false);
                var data = received.ReceivedBytes > MaxRequestBytes ? null : buffer.AsSpan(0, received.ReceivedBytes).ToArray();
                _requests.Track(AnswerAsync(data, received.RemoteEndPoint));
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex)
            {
                // An ICMP error for an earlier reply, or a datagram too large for the buffer: skip it, keep serving.
                LogReceiveFailed(ex.SocketErrorCode);
                await Task.Delay(1, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogLoopError(ex);
                await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private async Task AnswerAsync(byte[]? data, EndPoint sender)
    {
        try
        {
            var reply = data is null ? IdServerReply.TooLarge : await _protocol.HandleAsync(new ReadOnlySequence<byte>(data)).ConfigureAwait(false);
            await _socket.SendToAsync(Encoding.ASCII.GetBytes(reply), SocketFlags.None, sender).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LogReplyFailed(ex, sender);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>Stops receiving, lets the requests under way answer (until <paramref name="cancellationToken"/>), closes the socket.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
            await _requests.WhenAll().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _socket.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "idserver UDP receive failed ({Error}); serving on")]
    private partial void LogReceiveFailed(SocketError error);

    [LoggerMessage(Level = LogLevel.Error, Message = "idserver UDP loop error; serving on")]
    private partial void LogLoopError(Exception ex);

    [LoggerMessage(Level = LogLevel.Debug, Message = "idserver UDP reply to {Sender} failed")]
    private partial void LogReplyFailed(Exception ex, EndPoint sender);
}

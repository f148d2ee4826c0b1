using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Leasehold.Server.Compat.IdServer;

/// <summary>
/// idserver over TCP: newline-delimited JSON, requests on one connection answered one after another, in
/// order. A line longer than <see cref="MaxLineBytes"/> gets an error and the connection is closed.
/// At most <see cref="IdServerSettings.MaxConnections"/> are open at once (more get an error line and
/// are closed), and a connection that sends no complete line for <see cref="IdServerSettings.IdleTimeout"/>
/// is closed.
/// Closing a connection releases nothing (ids are leased by owner and time, not by connection).
/// </summary>
internal sealed partial class TcpFrontEnd : IAsyncDisposable
{
    public const int MaxLineBytes = 64 * 1024;

    private const long RefusalLogIntervalMs = 10_000;

    private static readonly byte[] NewLine = "\n"u8.ToArray();
    private static readonly byte[] TooManyConnections = Encoding.ASCII.GetBytes(IdServerReply.TooManyConnections + "\n");

    private readonly TcpListener _listener;
    private readonly IdServerSettings _settings;
    private readonly IdServerProtocol _protocol;
    private readonly ILogger _logger;
    private readonly TaskTracker _connections = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private int _open;
    private long _lastRefusalLog = long.MinValue / 2;

    private TcpFrontEnd(TcpListener listener, IdServerSettings settings, IdServerProtocol protocol, ILogger logger)
    {
        _listener = listener;
        _settings = settings;
        _protocol = protocol;
        _logger = logger;
        LocalEndPoint = (IPEndPoint)listener.LocalEndpoint;
    }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Listens (throws <see cref="SocketException"/> when the address is taken) and starts accepting.</summary>
    public static TcpFrontEnd Start(IdServerSettings settings, IdServerProtocol protocol, ILogger logger)
    {
        var listener = new TcpListener(settings.EndPoint);
        try
        {
            if (settings.DualMode)
            {
                listener.Server.DualMode = true;
            }
            listener.Start();
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        var frontEnd = new TcpFrontEnd(listener, settings, protocol, logger);
        frontEnd._loop = Task.Run(frontEnd.AcceptAsync);
        return frontEnd;
    }

    private async Task AcceptAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                var socket = await _listener.AcceptSocketAsync(token).ConfigureAwait(false);
                if (Interlocked.Increment(ref _open) > _settings.MaxConnections)
                {
                    Interlocked.Decrement(ref _open);
                    Refuse(socket);
                    continue;
                }
                _connections.Track(ServeAsync(socket, token));
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
                // Out of descriptors, or a connection reset before it was accepted: pause briefly, accept on.
                LogAcceptFailed(ex.SocketErrorCode);
                await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Whatever else goes wrong with one connection must not end accepting for all of them.
                LogAcceptError(ex);
                await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Over the limit: one error line, the way every other refusal is said in this protocol, then close.
    /// A fresh connection's send buffer is empty, so the write cannot block the accept loop.
    /// </summary>
    private void Refuse(Socket socket)
    {
        using (socket)
        {
            try
            {
                socket.Blocking = false;
                socket.Send(TooManyConnections);
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // The client is gone already: nothing to tell it.
            }
        }
        var now = Environment.TickCount64;
        if (now - Interlocked.Read(ref _lastRefusalLog) >= RefusalLogIntervalMs)
        {
            // Once per interval, so that a flood does not also flood the log.
            Interlocked.Exchange(ref _lastRefusalLog, now);
            LogRefused(_settings.MaxConnections);
        }
    }

    private async Task ServeAsync(Socket socket, CancellationToken token)
    {
        try
        {
            await ServeLinesAsync(socket, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Reset before it could be served (its RemoteEndPoint throws then).
        }
        finally
        {
            // Here, not in ServeLinesAsync, so that neither the descriptor nor the slot leaks whatever happens.
            socket.Dispose();
            Interlocked.Decrement(ref _open);
        }
    }

    private async Task ServeLinesAsync(Socket socket, CancellationToken token)
    {
        var remote = socket.RemoteEndPoint;
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        // One deadline for the next complete line and one for writing its reply: an idle client, one that
        // trickles a line byte by byte, and one that stops reading replies are all closed when it passes.
        var deadline = Renew(null, token);
        try
        {
            socket.NoDelay = true;
            while (true)
            {
                var read = await reader.ReadAsync(deadline.Token).ConfigureAwait(false);
                var buffer = read.Buffer;
                while (buffer.PositionOf((byte)'\n') is { } end)
                {
                    var line = buffer.Slice(0, end);
                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                    if (line.Length > MaxLineBytes)
                    {
                        await CloseWithAsync(socket, stream, IdServerReply.LineTooLong, remote, deadline.Token).ConfigureAwait(false);
                        return;
                    }
                    // The line came in time: its reply gets a deadline of its own, even if the last one just passed.
                    deadline = Renew(deadline, token);
                    var reply = await _protocol.HandleAsync(line).ConfigureAwait(false);
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(reply), deadline.Token).ConfigureAwait(false);
                    await stream.WriteAsync(NewLine, deadline.Token).ConfigureAwait(false);
                    deadline = Renew(deadline, token);
                }
                if (buffer.Length > MaxLineBytes)
                {
                    await CloseWithAsync(socket, stream, IdServerReply.LineTooLong, remote, deadline.Token).ConfigureAwait(false);
                    return;
                }
                if (read.IsCompleted)
                {
                    // The client closed; a last line without its newline is not a request (idserver waits for the newline too).
                    return;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !token.IsCancellationRequested)
        {
            LogIdleClosed(remote, _settings.IdleTimeout.TotalSeconds);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, or the server is stopping: nothing to answer.
        }
        catch (Exception ex)
        {
            LogConnectionError(ex, remote);
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            deadline.Dispose();
        }
    }

    /// <summary>The deadline restarted at <see cref="IdServerSettings.IdleTimeout"/> from now (a new one if it already passed).</summary>
    private CancellationTokenSource Renew(CancellationTokenSource? deadline, CancellationToken token)
    {
        if (deadline is null || deadline.IsCancellationRequested)
        {
            deadline?.Dispose();
            deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
        }
        deadline.CancelAfter(_settings.IdleTimeout);
        return deadline;
    }

    private async Task CloseWithAsync(Socket socket, NetworkStream stream, string reply, EndPoint? remote, CancellationToken token)
    {
        LogLineTooLong(remote);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(reply + "\n"), token).ConfigureAwait(false);
        socket.Shutdown(SocketShutdown.Send);
    }

    /// <summary>Stops accepting and closes every connection (a request under way still takes effect), waiting for them.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        await _connections.WhenAll().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "idserver TCP accept failed ({Error}); accepting on")]
    private partial void LogAcceptFailed(SocketError error);

    [LoggerMessage(Level = LogLevel.Error, Message = "idserver TCP accept failed; accepting on")]
    private partial void LogAcceptError(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "idserver TCP connection refused: {Max} connections are open (Leasehold:IdServer:MaxConnections)")]
    private partial void LogRefused(int max);

    [LoggerMessage(Level = LogLevel.Debug, Message = "idserver TCP connection from {Remote} sent no complete line for {Seconds} s; closed")]
    private partial void LogIdleClosed(EndPoint? remote, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "idserver TCP connection from {Remote} sent a line over the limit; closed")]
    private partial void LogLineTooLong(EndPoint? remote);

    [LoggerMessage(Level = LogLevel.Error, Message = "idserver TCP connection from {Remote} failed")]
    private partial void LogConnectionError(Exception ex, EndPoint? remote);
}

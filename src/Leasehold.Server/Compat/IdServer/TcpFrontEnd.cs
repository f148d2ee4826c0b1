using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Leasehold.Server.Compat.IdServer;

/// <summary>
/// idserver over TCP: newline-delimited JSON, requests on one connection answered one after another, in
/// order. A line longer than <see cref="MaxLineBytes"/> gets an error and the connection is closed.
/// Closing a connection releases nothing (ids are leased by owner and time, not by connection).
/// </summary>
internal sealed partial class TcpFrontEnd : IAsyncDisposable
{
    public const int MaxLineBytes = 64 * 1024;

    private static readonly byte[] NewLine = "\n"u8.ToArray();

    private readonly TcpListener _listener;
    private readonly IdServerProtocol _protocol;
    private readonly ILogger _logger;
    private readonly TaskTracker _connections = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    private TcpFrontEnd(TcpListener listener, IdServerProtocol protocol, ILogger logger)
    {
        _listener = listener;
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
        var frontEnd = new TcpFrontEnd(listener, protocol, logger);
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
        }
    }

    private async Task ServeAsync(Socket socket, CancellationToken token)
    {
        var remote = socket.RemoteEndPoint;
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        try
        {
            socket.NoDelay = true;
            while (true)
            {
                var read = await reader.ReadAsync(token).ConfigureAwait(false);
                var buffer = read.Buffer;
                while (buffer.PositionOf((byte)'\n') is { } end)
                {
                    var line = buffer.Slice(0, end);
                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                    if (line.Length > MaxLineBytes)
                    {
                        await CloseWithAsync(socket, stream, IdServerReply.LineTooLong, remote, token).ConfigureAwait(false);
                        return;
                    }
                    var reply = await _protocol.HandleAsync(line).ConfigureAwait(false);
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(reply), token).ConfigureAwait(false);
                    await stream.WriteAsync(NewLine, token).ConfigureAwait(false);
                }
                if (buffer.Length > MaxLineBytes)
                {
                    await CloseWithAsync(socket, stream, IdServerReply.LineTooLong, remote, token).ConfigureAwait(false);
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
        }
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

    [LoggerMessage(Level = LogLevel.Information, Message = "idserver TCP connection from {Remote} sent a line over the limit; closed")]
    private partial void LogLineTooLong(EndPoint? remote);

    [LoggerMessage(Level = LogLevel.Error, Message = "idserver TCP connection from {Remote} failed")]
    private partial void LogConnectionError(Exception ex, EndPoint? remote);
}

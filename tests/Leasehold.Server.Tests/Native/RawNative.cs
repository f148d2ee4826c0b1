using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Leasehold.Protocol.Native;

namespace Leasehold.Server.Tests.Native;

/// <summary>A native connection driven with raw frames over a socket; every read is bounded by <see cref="TestServer.Timeout"/>.</summary>
internal sealed class RawNative : IAsyncDisposable
{
    private readonly Socket _socket;
    private byte[] _buffer = new byte[64 * 1024];
    private int _filled;

    private RawNative(Socket socket) => _socket = socket;

    /// <param name="endPoint">The server's native address.</param>
    /// <param name="receiveBuffer">The socket's receive buffer (a small one makes a reader that stops reading stall sooner); null: the system's.</param>
    public static async Task<RawNative> ConnectAsync(IPEndPoint endPoint, int? receiveBuffer = null)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBuffer is { } size)
        {
            socket.ReceiveBufferSize = size;
        }
        using var cts = new CancellationTokenSource(TestServer.Timeout);
        await socket.ConnectAsync(endPoint, cts.Token);
        return new RawNative(socket);
    }

    /// <summary>Connects and shakes hands; returns the WELCOME.</summary>
    public static async Task<(RawNative Connection, WelcomeMessage Welcome)> OpenAsync(IPEndPoint endPoint, string? credential = null, int? receiveBuffer = null)
    {
        var connection = await ConnectAsync(endPoint, receiveBuffer);
        await connection.SendAsync(1, new HelloMessage(1, credential, "raw-test"));
        var frame = await connection.ReceiveAsync();
        Assert.Equal((FrameType.Welcome, 1u), (frame.Type, frame.Id));
        Assert.True(NativeFrames.TryParse<WelcomeMessage>(new ReadOnlySequence<byte>(frame.Payload), out var welcome));
        return (connection, welcome);
    }

    public Task SendAsync<T>(uint id, T message) where T : struct, INativeMessage<T>
    {
        var output = new ArrayBufferWriter<byte>();
        NativeFrames.Write(output, id, message);
        return SendRawAsync(output.WrittenMemory.ToArray());
    }

    public async Task SendRawAsync(byte[] bytes)
    {
        using var cts = new CancellationTokenSource(TestServer.Timeout);
        await _socket.SendAsync(bytes, SocketFlags.None, cts.Token);
    }

    public static byte[] Frame(FrameType type, uint id, byte[] payload)
    {
        var bytes = new byte[9 + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)(5 + payload.Length));
        bytes[4] = (byte)type;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(5), id);
        payload.CopyTo(bytes, 9);
        return bytes;
    }

    public sealed record Received(FrameType Type, uint Id, byte[] Payload)
    {
        public T As<T>() where T : struct, INativeMessage<T>
        {
            Assert.True(Type == T.Type, $"expected {T.Type}, got {Type} {(Type == FrameType.Error ? Describe() : "")}");
            Assert.True(NativeFrames.TryParse<T>(new ReadOnlySequence<byte>(Payload), out var message));
            return message;
        }

        public ErrorMessage Error() => As<ErrorMessage>();

        private string Describe() => NativeFrames.TryParse<ErrorMessage>(new ReadOnlySequence<byte>(Payload), out var e) ? $"{e.Code}: {e.Detail}" : "";
    }

    /// <summary>The next frame; fails the test when none comes within the bound.</summary>
    public async Task<Received> ReceiveAsync(TimeSpan? within = null)
    {
        using var cts = new CancellationTokenSource(within ?? TestServer.Timeout);
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
    public async Task<bool> ClosedAsync(TimeSpan? within = null)
    {
        try
        {
            while (true)
            {
                await ReceiveAsync(within);
            }
        }
        catch (EndOfStreamException)
        {
            return true;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Closes the sending side (the server reads the end of the connection) and keeps reading what it still sends.</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

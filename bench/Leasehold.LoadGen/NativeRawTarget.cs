using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Leasehold.Protocol.Native;

namespace Leasehold.LoadGen;

/// <summary>
/// Leasehold's native protocol spoken with the codec alone, no client library (the native counterpart of the
/// raw-http <see cref="LeaseClient"/>): one connection per load client, HELLO once, then ACQUIRE and RELEASE
/// frames, one request in flight at a time. An ACQUIRE frame is built once per client and path and only its id
/// is patched per request, so the load generator spends little CPU beside the server on a shared machine.
/// </summary>
internal sealed class NativeRawTarget : ILockTarget
{
    private readonly LoadOptions _options;
    private readonly Connection?[] _connections;
    private readonly HttpClient? _statsHttp;
    private readonly LeaseClient? _stats;

    /// <param name="options">the options; client c uses URL c % count</param>
    /// <param name="httpUrl">one server's HTTP URL, for its counters (GET /v1/stats); null: not sampled</param>
    public NativeRawTarget(LoadOptions options, Uri? httpUrl)
    {
        _options = options;
        _connections = new Connection?[Math.Max(1, options.Clients)];
        if (httpUrl is not null)
        {
            _statsHttp = new HttpClient { BaseAddress = httpUrl, Timeout = TimeSpan.FromSeconds(30) };
            _stats = new LeaseClient(_statsHttp);
        }
    }

    public string Name => "leasehold native (raw frames)";

    public bool QueuesFairly => true;

    public bool HasFences => true;

    /// <summary>The ACQUIRE frame (id 0, patched per request) for this path: ttl in ms, wait in ms, HTTP's default flags.</summary>
    public object Prepare(int client, string path, double? waitSeconds)
    {
        var message = new AcquireMessage
        {
            Paths = [path],
            TtlMs = _options.TtlSeconds is { } ttl ? ttl * 1000L : -1,
            WaitMs = (long)((waitSeconds ?? 0) * 1000),
        };
        var frame = new ArrayBufferWriter<byte>();
        NativeFrames.Write(frame, 0, message);
        return frame.WrittenMemory.ToArray();
    }

    public async Task<(Held? Lock, string? Error)> AcquireAsync(int client, object prepared, CancellationToken cancel)
    {
        try
        {
            var connection = _connections[client] ??= await Connection.OpenAsync(Endpoint(client), _options.ApiKey, cancel);
            var (type, payload) = await connection.AskAsync((byte[])prepared, cancel);
            if (type == FrameType.Lease && NativeFrames.TryParse<LeaseMessage>(new ReadOnlySequence<byte>(payload), out var lease) && lease.Token is { } token)
            {
                return (new Held((long)lease.Fence, new Granted(lease.Id, token)), null);
            }
            return (null, $"acquire: {Describe(type, payload)}");
        }
        catch (Exception e) when (e is SocketException or IOException or InvalidDataException)
        {
            _connections[client]?.Dispose();
            _connections[client] = null;
            return (null, $"acquire: {e.Message}");
        }
    }

    public async Task<string?> ReleaseAsync(int client, Held held, CancellationToken cancel)
    {
        var granted = (Granted)held.Handle;
        try
        {
            var connection = _connections[client] ?? throw new IOException("the connection that got the lease is gone");
            var (type, payload) = await connection.AskAsync(new ReleaseMessage(granted.LeaseId, granted.Token), cancel);
            return type == FrameType.Ok ? null : $"release: {Describe(type, payload)}";
        }
        catch (Exception e) when (e is SocketException or IOException or InvalidDataException)
        {
            _connections[client]?.Dispose();
            _connections[client] = null;
            return $"release: {e.Message}";
        }
    }

    public async Task<string?> CheckReadyAsync(CancellationToken cancel)
    {
        try
        {
            // Every connection is opened (and greeted) before the run, so the warmup measures requests only.
            for (var c = 0; c < _connections.Length; c++)
            {
                _connections[c] ??= await Connection.OpenAsync(Endpoint(c), _options.ApiKey, cancel);
            }
            return null;
        }
        catch (Exception e) when (e is SocketException or IOException or InvalidDataException)
        {
            return $"{_options.Urls[0]}: {e.Message}";
        }
    }

    public Task<StatsReply?> StatsAsync(CancellationToken cancel) => _stats?.StatsAsync(cancel) ?? Task.FromResult<StatsReply?>(null);

    private IPEndPoint Endpoint(int client)
    {
        var url = _options.Urls[client % _options.Urls.Count];
        return new IPEndPoint(IPAddress.Parse(url.Host), url.Port);
    }

    private static string Describe(FrameType type, ReadOnlyMemory<byte> payload)
        => type == FrameType.Error && NativeFrames.TryParse<ErrorMessage>(new ReadOnlySequence<byte>(payload), out var error)
            ? $"{error.Code} ({error.Status}): {error.Detail}"
            : $"unexpected frame {type}";

    public void Dispose()
    {
        _statsHttp?.Dispose();
        foreach (var connection in _connections)
        {
            connection?.Dispose();
        }
    }

    /// <summary>The largest frame the server may be set to send (Leasehold:Native:MaxFrameBytes' top).</summary>
    private const int MaxFrameBytes = 16 << 20;

    private sealed record Granted(ulong LeaseId, string Token);

    /// <summary>One connection: frames out from a reused buffer, frames in cut from a growing receive buffer.</summary>
    private sealed class Connection(Socket socket) : IDisposable
    {
        private readonly ArrayBufferWriter<byte> _out = new(256);
        private byte[] _in = new byte[4096];
        private int _start;
        private int _end;
        private uint _lastId;

        public static async Task<Connection> OpenAsync(IPEndPoint endpoint, string? credential, CancellationToken cancel)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(endpoint, cancel);
                var connection = new Connection(socket);
                NativeFrames.Write(connection._out, connection.NextId(), new HelloMessage(NativeProtocol.Version, credential, "leasehold-loadgen"));
                await connection.SendAsync(cancel);
                var (type, payload) = await connection.ReadAnswerAsync(cancel);
                if (type != FrameType.Welcome)
                {
                    throw new IOException($"HELLO answered {Describe(type, payload)}");
                }
                return connection;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        /// <summary>Sends a prepared frame with a fresh id and reads its answer (valid until the next request).</summary>
        public async ValueTask<(FrameType Type, ReadOnlyMemory<byte> Payload)> AskAsync(byte[] frame, CancellationToken cancel)
        {
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(5), NextId());
            await socket.SendAsync(frame, SocketFlags.None, cancel);
            return await ReadAnswerAsync(cancel);
        }

        public async ValueTask<(FrameType Type, ReadOnlyMemory<byte> Payload)> AskAsync<T>(T message, CancellationToken cancel) where T : struct, INativeMessage<T>
        {
            NativeFrames.Write(_out, NextId(), message);
            await SendAsync(cancel);
            return await ReadAnswerAsync(cancel);
        }

        private uint NextId() => _lastId = _lastId == uint.MaxValue ? 1 : _lastId + 1;

        private async ValueTask SendAsync(CancellationToken cancel)
        {
            await socket.SendAsync(_out.WrittenMemory, SocketFlags.None, cancel);
            _out.ResetWrittenCount();
        }

        /// <summary>The next frame that answers the request in flight (pushes, with id 0, are skipped).</summary>
        private async ValueTask<(FrameType Type, ReadOnlyMemory<byte> Payload)> ReadAnswerAsync(CancellationToken cancel)
        {
            while (true)
            {
                var buffer = new ReadOnlySequence<byte>(_in, _start, _end - _start);
                var status = FrameReader.TryRead(ref buffer, MaxFrameBytes, out var frame, out var length);
                if (status == FrameStatus.Frame)
                {
                    var payloadStart = _start + NativeProtocol.HeaderSize;
                    _start = _end - (int)buffer.Length;
                    if (frame.Id == 0 && frame.Type != FrameType.Error)
                    {
                        continue;
                    }
                    if (frame.Id != _lastId && frame.Id != 0)
                    {
                        throw new InvalidDataException($"an answer to request {frame.Id} while {_lastId} is in flight");
                    }
                    return (frame.Type, _in.AsMemory(payloadStart, (int)frame.Payload.Length));
                }
                if (status != FrameStatus.NeedMore)
                {
                    throw new InvalidDataException($"a frame of length {length} from the server");
                }
                if (_start == _end)
                {
                    _start = _end = 0;
                }
                else if (_end == _in.Length)
                {
                    // Make room: move what is left to the front, or grow for a frame bigger than the buffer.
                    var rest = _end - _start;
                    var target = rest * 2 > _in.Length ? new byte[_in.Length * 2] : _in;
                    Buffer.BlockCopy(_in, _start, target, 0, rest);
                    (_in, _start, _end) = (target, 0, rest);
                }
                var n = await socket.ReceiveAsync(_in.AsMemory(_end), SocketFlags.None, cancel);
                if (n == 0)
                {
                    throw new IOException("the server closed the connection");
                }
                _end += n;
            }
        }

        public void Dispose() => socket.Dispose();
    }
}

using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using Leasehold.Protocol;
using Leasehold.Protocol.Native;

namespace Leasehold.Client.Transport;

/// <summary>An answer frame, parsed in the reader loop (its buffer is gone once the loop moves on).</summary>
internal readonly struct NativeAnswer
{
    public FrameType Type { get; init; }

    public LeaseMessage Lease { get; init; }

    public SessionMessage Session { get; init; }

    public ResultMessage Result { get; init; }

    public ErrorMessage Error { get; init; }
}

/// <summary>The connection broke, or was never made whole: a transport failure, like an HTTP request that got no answer.</summary>
internal sealed class NativeConnectionLostException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>The server refused the handshake (a credential that does not hold, a version it does not speak): an answer, not a transport failure.</summary>
internal sealed class NativeRefusedException(ProblemDto problem) : Exception(problem.Detail)
{
    public ProblemDto Problem { get; } = problem;
}

/// <summary>
/// One native connection to one server: requests are framed with ids and written by whichever caller finds the
/// writer idle (the frames of concurrent callers go out together in one write), and one reader loop hands each
/// answer to its request and each push (LEASE_ENDED, SESSION_ENDED) to whoever watches that lease or session.
/// When anything breaks, every request in flight fails with <see cref="NativeConnectionLostException"/> and the
/// connection is dead for good: the endpoint makes a new one for the next request.
/// </summary>
internal sealed partial class NativeConnection : IDisposable
{
    private static readonly string ClientName = "leasehold-dotnet/" + typeof(NativeConnection).Assembly.GetName().Version?.ToString(3);

    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly Lock _gate = new();
    private readonly Dictionary<uint, Pending> _pending = [];
    private readonly ConcurrentDictionary<long, Action<string>> _leaseWatchers = new();
    private readonly ConcurrentDictionary<long, Action<string>> _sessionWatchers = new();
    // Pushes that came before anyone watched (a lease that ended between its LEASE and the handle's making).
    private readonly RecentEnds _unclaimedEnds = new();
    private readonly TimeSpan _heartbeat;
    // A third of the server's idle timeout (WELCOME's idleMs).
    private TimeSpan _idle = TimeSpan.FromSeconds(40);
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    // Requests the server has been sent and not answered, and those held back because the server reads no more
    // than WELCOME's maxInFlight at once: beyond it, it stops reading the connection, and a PING, CANCEL or
    // RELEASE behind the backlog would not be read either. Those three are never held; the rest keep two slots free.
    private readonly Queue<(uint Id, byte[] Frame)> _held = new();
    private int _sent;
    private int _maxSent = int.MaxValue;
    private ArrayBufferWriter<byte> _output = new(4096);
    private ArrayBufferWriter<byte>? _spare = new(4096);
    private bool _writing;
    private uint _lastId;
    private Exception? _failure;
    private long _lastSent;
    private long _lastReceived;
    private long _lastConfirmed;
    private Pending? _heartbeatPing;
    private Task _readLoop = Task.CompletedTask;

    private NativeConnection(Stream stream, Uri address, TimeSpan connectTimeout, TimeProvider time)
    {
        _time = time;
        _stream = stream;
        Address = address;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(minimumReadSize: 4096));
        _heartbeat = connectTimeout < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : connectTimeout;
        _lastSent = _lastReceived = _lastConfirmed = time.GetTimestamp();
        _timer = time.CreateTimer(static s => ((NativeConnection)s!).Tick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public Uri Address { get; }

    public int MaxFrameBytes { get; private set; } = NativeProtocol.DefaultMaxFrameBytes;

    /// <summary>The node's role, as WELCOME said (<c>single</c>, <c>leader</c>, <c>follower</c>, ...).</summary>
    public string Role { get; private set; } = "";

    public bool IsAlive => Volatile.Read(ref _failure) is null;

    /// <summary>
    /// Connects, with TLS for <c>leaseholds://</c>, and shakes hands, all within the connect timeout.
    /// A refused handshake throws <see cref="NativeRefusedException"/>; anything else that fails is a transport failure.
    /// </summary>
    public static async Task<NativeConnection> ConnectAsync(Uri address, LeaseholdClientOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        // The connect timeout counts on the client's clock; a linked source's CancelAfter would count on the system's.
        using var deadline = new CancellationTokenSource(options.ConnectTimeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(address.DnsSafeHost, address.Port, timeout.Token).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (address.Scheme == LeaseholdClient.NativeTlsScheme)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsClientAsync(ClientTls.CreateSslOptions(options, address.DnsSafeHost), timeout.Token).ConfigureAwait(false);
            }
            var connection = new NativeConnection(stream, address, options.ConnectTimeout, time);
            try
            {
                await connection.HandshakeAsync(options.ApiKey, timeout.Token).ConfigureAwait(false);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
            return connection;
        }
        catch
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            socket.Dispose();
            throw;
        }
    }

    private async Task HandshakeAsync(string? credential, CancellationToken cancellationToken)
    {
        var hello = new ArrayBufferWriter<byte>(64);
        NativeFrames.Write(hello, 1, new HelloMessage(NativeProtocol.Version, string.IsNullOrEmpty(credential) ? null : credential, ClientName));
        await _stream.WriteAsync(hello.WrittenMemory, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var status = FrameReader.TryRead(ref buffer, NativeProtocol.DefaultMaxFrameBytes, out var frame, out var length);
            if (status == FrameStatus.Frame)
            {
                var welcomed = false;
                try
                {
                    if (frame.Type == FrameType.Welcome && NativeFrames.TryParse<WelcomeMessage>(frame.Payload, out var welcome))
                    {
                        MaxFrameBytes = (int)Math.Min(welcome.MaxFrameBytes, 64u << 20);
                        _maxSent = (int)Math.Max(1, Math.Min(welcome.MaxInFlight, (uint)int.MaxValue) - 2);
                        Role = welcome.Role;
                        if (welcome.IdleMs > 0)
                        {
                            _idle = TimeSpan.FromMilliseconds(welcome.IdleMs) / 3;
                        }
                        var period = _idle < _heartbeat ? _idle : _heartbeat;
                        _timer.Change(period, period);
                        _lastId = 1;
                        welcomed = true;
                    }
                    else if (frame.Type == FrameType.Error && NativeFrames.TryParse<ErrorMessage>(frame.Payload, out var error))
                    {
                        throw new NativeRefusedException(NativeEndpoint.ToProblem(error));
                    }
                    else
                    {
                        throw new NativeConnectionLostException($"the server answered the handshake with a frame of type 0x{(byte)frame.Type:X2}");
                    }
                }
                finally
                {
                    _reader.AdvanceTo(buffer.Start);
                }
                if (welcomed)
                {
                    // Only once the handshake's read is handed back: the loop reads the same pipe.
                    _readLoop = Task.Run(ReadLoopAsync, CancellationToken.None);
                    return;
                }
            }
            if (status != FrameStatus.NeedMore)
            {
                throw new NativeConnectionLostException($"the server sent a frame of {length} bytes during the handshake");
            }
            if (result.IsCompleted)
            {
                throw new NativeConnectionLostException("the server closed the connection during the handshake");
            }
            _reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>
    /// Sends a request; the returned task ends with its answer (or throws <see cref="NativeConnectionLostException"/>
    /// when the connection breaks first). Cancelling gives up waiting; an ACQUIRE given up on is cancelled on the
    /// server (CANCEL), and should its grant win that race, the lease is released.
    /// </summary>
    public Task<NativeAnswer> SendAsync<T>(in T message, CancellationToken cancellationToken) where T : struct, INativeMessage<T>
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<NativeAnswer>(cancellationToken);
        }
        var pending = new Pending(this, T.Type);
        Enqueue(message, pending);
        if (cancellationToken.CanBeCanceled)
        {
            // After Enqueue (a CANCEL needs the request's id); the answer may have come meanwhile (see Register).
            pending.Register(cancellationToken);
        }
        return pending.Task;
    }

    /// <summary>
    /// A timestamp of the client's clock at which the server surely had this connection open (the time a request was sent whose
    /// answer came back), no older than <paramref name="freshness"/>: the last one when recent enough, else a PING's.
    /// </summary>
    public async Task<long> ConfirmAsync(TimeSpan freshness, CancellationToken cancellationToken)
    {
        var confirmed = Volatile.Read(ref _lastConfirmed);
        if (_time.GetElapsedTime(confirmed) < freshness)
        {
            return confirmed;
        }
        var sent = _time.GetTimestamp();
        await SendAsync(new PingMessage([]), cancellationToken).ConfigureAwait(false);
        return sent;
    }

    /// <summary>Calls <paramref name="ended"/> (on the thread pool) when the server pushes LEASE_ENDED for the lease.</summary>
    public void WatchLease(long id, Action<string> ended)
    {
        _leaseWatchers[id] = ended;
        ClaimEnd(id);
    }

    /// <summary>
    /// Hands an end kept for <paramref name="id"/> to its watcher, when there are both. The watcher is set before this
    /// looks for an end, and an end kept before this looks for a watcher, so whichever of the two comes second finds
    /// the other; the end is taken once.
    /// </summary>
    private void ClaimEnd(long id)
    {
        // The write before this call (a watcher set, an end kept) is seen by the other thread before this reads its half.
        Interlocked.MemoryBarrier();
        if (_leaseWatchers.ContainsKey(id) && _unclaimedEnds.TryTake(id, out var reason))
        {
            if (_leaseWatchers.TryRemove(id, out var watcher))
            {
                ThreadPool.QueueUserWorkItem(static s => s.watcher(s.reason), (watcher, reason), preferLocal: false);
            }
        }
    }

    public void UnwatchLease(long id) => _leaseWatchers.TryRemove(id, out _);

    /// <summary>Calls <paramref name="ended"/> (on the thread pool) when the server pushes SESSION_ENDED for the session.</summary>
    public void WatchSession(long id, Action<string> ended) => _sessionWatchers[id] = ended;

    public void UnwatchSession(long id) => _sessionWatchers.TryRemove(id, out _);

    private void Enqueue<T>(in T message, Pending pending) where T : struct, INativeMessage<T>
    {
        var size = NativeProtocol.HeaderSize + message.PayloadSize;
        if (size - 4 > MaxFrameBytes)
        {
            throw new LeaseholdException(NativeProtocol.FrameTooLarge, 413, $"the request needs a frame of {size - 4} bytes; the server takes at most {MaxFrameBytes}");
        }
        lock (_gate)
        {
            if (_failure is not null)
            {
                throw Lost();
            }
            // Ids wrap, skipping 0 and any still in flight (a waiting ACQUIRE may be old).
            do
            {
                _lastId++;
            }
            while (_lastId == 0 || _pending.ContainsKey(_lastId));
            pending.Id = _lastId;
            pending.SentAt = _time.GetTimestamp();
            _pending.Add(_lastId, pending);
            if (T.Type is not (FrameType.Ping or FrameType.Cancel or FrameType.Release) && (_sent >= _maxSent || _held.Count > 0))
            {
                // Sent when an answer frees a slot, in order (Dispatch).
                var frame = new ArrayBufferWriter<byte>(size);
                NativeFrames.Write(frame, _lastId, message);
                _held.Enqueue((_lastId, frame.WrittenSpan.ToArray()));
                return;
            }
            _sent++;
            NativeFrames.Write(_output, _lastId, message);
            _lastSent = pending.SentAt;
            if (_writing)
            {
                return;
            }
            _writing = true;
        }
        _ = WriteLoopAsync();
    }

    /// <summary>
    /// Under _gate: moves held requests to the output while slots are free (one given up on meanwhile is dropped: the
    /// server never saw it); true when the caller must start the write loop.
    /// </summary>
    private bool SendHeld()
    {
        var moved = false;
        while (_sent < _maxSent && _held.TryDequeue(out var held))
        {
            if (!_pending.TryGetValue(held.Id, out var waiting) || waiting.Task.IsCompleted)
            {
                _pending.Remove(held.Id);
                continue;
            }
            _sent++;
            _output.Write(held.Frame);
            moved = true;
        }
        if (!moved || _writing || _failure is not null)
        {
            return false;
        }
        _writing = true;
        return true;
    }

    /// <summary>Writes what callers queued, batch after batch, until nothing is left; one runs at a time.</summary>
    private async Task WriteLoopAsync()
    {
        try
        {
            while (true)
            {
                ArrayBufferWriter<byte> batch;
                lock (_gate)
                {
                    if (_output.WrittenCount == 0 || _failure is not null)
                    {
                        _writing = false;
                        return;
                    }
                    batch = _output;
                    _output = _spare ?? new ArrayBufferWriter<byte>(4096);
                    _spare = null;
                }
                await _stream.WriteAsync(batch.WrittenMemory).ConfigureAwait(false);
                batch.ResetWrittenCount();
                lock (_gate)
                {
                    _spare = batch;
                }
            }
        }
        catch (Exception ex)
        {
            lock (_gate)
            {
                _writing = false;
            }
            Fail(new NativeConnectionLostException($"writing to {Address} failed: {ex.Message}", ex));
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                while (true)
                {
                    var status = FrameReader.TryRead(ref buffer, MaxFrameBytes, out var frame, out var length);
                    if (status == FrameStatus.NeedMore)
                    {
                        break;
                    }
                    if (status != FrameStatus.Frame)
                    {
                        throw new NativeConnectionLostException($"the server sent a frame of {length} bytes");
                    }
                    Volatile.Write(ref _lastReceived, _time.GetTimestamp());
                    Dispatch(frame);
                }
                _reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    throw new NativeConnectionLostException($"the server at {Address} closed the connection");
                }
            }
        }
        catch (Exception ex)
        {
            Fail(ex as NativeConnectionLostException ?? new NativeConnectionLostException($"reading from {Address} failed: {ex.Message}", ex));
        }
    }

    private void Dispatch(in Frame frame)
    {
        if (frame.Id == 0)
        {
            DispatchConnectionFrame(frame);
            return;
        }
        if (frame.Type is FrameType.Event or FrameType.Watching)
        {
            // A WATCH's frames before its answer (NativeConnection.Watch.cs).
            DispatchWatch(frame);
            return;
        }
        Pending? pending;
        var release = false;
        lock (_gate)
        {
            if (!_pending.Remove(frame.Id, out pending))
            {
                return; // An answer to nothing in flight: ignored.
            }
            _sent--;
            release = SendHeld();
        }
        if (release)
        {
            _ = WriteLoopAsync();
        }
        var sentAt = pending.SentAt;
        long confirmed;
        while ((confirmed = Volatile.Read(ref _lastConfirmed)) < sentAt && Interlocked.CompareExchange(ref _lastConfirmed, sentAt, confirmed) != confirmed)
        {
        }
        var answer = new NativeAnswer { Type = frame.Type };
        var parsed = true;
        switch (frame.Type)
        {
            case FrameType.Lease:
                parsed = NativeFrames.TryParse<LeaseMessage>(frame.Payload, out var lease);
                answer = answer with { Lease = lease };
                break;
            case FrameType.Session:
                parsed = NativeFrames.TryParse<SessionMessage>(frame.Payload, out var session);
                answer = answer with { Session = session };
                break;
            case FrameType.Result:
                parsed = NativeFrames.TryParse<ResultMessage>(frame.Payload, out var result);
                answer = answer with { Result = result };
                break;
            case FrameType.Error:
                parsed = NativeFrames.TryParse<ErrorMessage>(frame.Payload, out var error);
                answer = answer with { Error = error };
                break;
            case FrameType.Ok or FrameType.Pong or FrameType.Welcome:
                break;
            default:
                parsed = false;
                break;
        }
        if (!parsed)
        {
            pending.Fail(new NativeConnectionLostException($"the server at {Address} answered with a frame of type 0x{(byte)frame.Type:X2} that does not parse"));
            return;
        }
        if (!pending.Complete(answer))
        {
            if (pending.IsAcquire && answer.Type == FrameType.Lease && answer.Lease.Token is { } token)
            {
                // Granted to a caller who gave up: nobody will use it, so it goes back at once.
                SendQuietly(new ReleaseMessage(answer.Lease.Id, token));
            }
            else if (pending.Request == FrameType.SessionOpen && answer.Type == FrameType.Session && answer.Session.Token is { } sessionToken)
            {
                // A session opened for a caller who gave up: bound to this connection, the server would keep it alive for as
                // long as the connection stands, with nobody holding its token. It is closed at once.
                SendQuietly(new SessionCloseMessage(answer.Session.Id, sessionToken));
            }
        }
    }

    private void DispatchConnectionFrame(in Frame frame)
    {
        switch (frame.Type)
        {
            case FrameType.LeaseEnded when NativeFrames.TryParse<LeaseEndedMessage>(frame.Payload, out var ended):
                if (_leaseWatchers.TryRemove((long)ended.LeaseId, out var leaseWatcher))
                {
                    ThreadPool.QueueUserWorkItem(static s => s.leaseWatcher(s.Reason), (leaseWatcher, ended.Reason), preferLocal: false);
                }
                else
                {
                    _unclaimedEnds.Add((long)ended.LeaseId, ended.Reason);
                    // A watcher that came between the look above and the keeping: it looked before the end was kept.
                    ClaimEnd((long)ended.LeaseId);
                }
                break;
            case FrameType.SessionEnded when NativeFrames.TryParse<SessionEndedMessage>(frame.Payload, out var sessionEnded):
                if (_sessionWatchers.TryRemove((long)sessionEnded.SessionId, out var sessionWatcher))
                {
                    ThreadPool.QueueUserWorkItem(static s => s.sessionWatcher(s.Reason), (sessionWatcher, sessionEnded.Reason), preferLocal: false);
                }
                break;
            case FrameType.Error when NativeFrames.TryParse<ErrorMessage>(frame.Payload, out var error):
                // About the connection as a whole; the server closes it next.
                Fail(new NativeConnectionLostException($"the server at {Address} ended the connection: {error.Detail} ({error.Code})"));
                break;
            default:
                // Pushes of types this client does not know are skipped, as the protocol asks.
                break;
        }
    }

    /// <summary>Sends a request whose answer nobody waits for (giving back what a caller who gave up was granted).</summary>
    private void SendQuietly<T>(in T message) where T : struct, INativeMessage<T>
    {
        try
        {
            _ = SendAsync(message, CancellationToken.None).ContinueWith(
                static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        catch (Exception ex) when (ex is NativeConnectionLostException or LeaseholdException)
        {
            // The connection is gone: the server releases what it could not deliver, or it expires.
        }
    }

    private void SendCancel(uint target)
    {
        try
        {
            _ = SendAsync(new CancelMessage(target), CancellationToken.None).ContinueWith(
                static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        catch (NativeConnectionLostException)
        {
            // Gone: the server drops the waiter with the connection.
        }
    }

    /// <summary>
    /// Every heartbeat. While the connection matters (requests in flight, or leases and sessions watched on it), one that
    /// has heard nothing for a heartbeat sends PING, and one whose PING is still unanswered a heartbeat later is taken for
    /// dead. One that matters keeps the server's idle timeout at bay with a PING when it has sent nothing for a third of
    /// it; one that does not is closed by the client before the server would close it, so no request races that close.
    /// </summary>
    private void Tick()
    {
        if (!IsAlive)
        {
            return;
        }
        var ping = _heartbeatPing;
        if (ping is not null && !ping.Task.IsCompleted)
        {
            Fail(new NativeConnectionLostException($"the server at {Address} did not answer a ping within {_heartbeat.TotalSeconds:0.#} s"));
            return;
        }
        _heartbeatPing = null;
        bool busy;
        lock (_gate)
        {
            busy = _pending.Count > 0;
        }
        var matters = busy || !_leaseWatchers.IsEmpty || !_sessionWatchers.IsEmpty;
        var silentFor = _time.GetElapsedTime(Volatile.Read(ref _lastSent));
        if (!matters)
        {
            if (silentFor > _idle * 2)
            {
                Fail(new NativeConnectionLostException($"the connection to {Address} was idle"), onlyIfIdle: true);
            }
            return;
        }
        if (_time.GetElapsedTime(Volatile.Read(ref _lastReceived)) < _heartbeat && silentFor < _idle)
        {
            return;
        }
        try
        {
            var pending = new Pending(this, FrameType.Ping);
            Enqueue(new PingMessage([]), pending);
            _heartbeatPing = pending;
            _ = pending.Task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        catch (NativeConnectionLostException)
        {
            // Dead already.
        }
    }

    private NativeConnectionLostException Lost()
        => _failure as NativeConnectionLostException ?? new NativeConnectionLostException($"the connection to {Address} is closed", _failure);

    /// <summary>Ends the connection: every request in flight fails with <paramref name="reason"/>. With <paramref name="onlyIfIdle"/>, only if none is.</summary>
    private void Fail(Exception reason, bool onlyIfIdle = false)
    {
        Pending[] orphans;
        lock (_gate)
        {
            if (_failure is not null || (onlyIfIdle && _pending.Count > 0))
            {
                return;
            }
            _failure = reason;
            orphans = [.. _pending.Values];
            _pending.Clear();
            _held.Clear();
        }
        _timer.Dispose();
        try
        {
            _stream.Dispose();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException)
        {
            // Closing a broken stream may complain; it is closed either way.
        }
        foreach (var pending in orphans)
        {
            pending.Fail(reason as NativeConnectionLostException ?? new NativeConnectionLostException(reason.Message, reason));
        }
        // Pushes for these can no longer come: their watchers must learn from their own keep-alives.
        _leaseWatchers.Clear();
        _sessionWatchers.Clear();
    }

    public void Dispose() => Fail(new NativeConnectionLostException($"the connection to {Address} was closed by the client"));

    /// <summary>One request in flight: its answer's completion source, and what to do if its caller gives up.</summary>
    private sealed class Pending(NativeConnection connection, FrameType request)
        : TaskCompletionSource<NativeAnswer>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public uint Id { get; set; }

        public long SentAt { get; set; }

        /// <summary>The type of the request frame.</summary>
        public FrameType Request { get; } = request;

        public bool IsAcquire => Request == FrameType.Acquire;

        // Under lock (this): the registration on the caller's token, and whether the request has ended (answered or
        // failed), after which none is made. An answer can beat the registration (the frame is written before it is
        // made): a registration made after the answer disposed the (empty) one would never be disposed, and would keep
        // this request and its connection alive for as long as the caller's token lives (a service's stopping token).
        private CancellationTokenRegistration _registration;
        private bool _ended;

        public void Register(CancellationToken cancellationToken)
        {
            lock (this)
            {
                if (!_ended)
                {
                    _registration = cancellationToken.UnsafeRegister(static (state, token) => ((Pending)state!).Cancel(token), this);
                }
            }
        }

        public bool Complete(in NativeAnswer answer)
        {
            End();
            return TrySetResult(answer);
        }

        public void Fail(Exception reason)
        {
            End();
            TrySetException(reason);
        }

        /// <summary>No registration is made from now on, and the one made is disposed (outside the lock: disposing waits for a running callback).</summary>
        private void End()
        {
            CancellationTokenRegistration registration;
            lock (this)
            {
                _ended = true;
                registration = _registration;
                _registration = default;
            }
            registration.Dispose();
        }

        public void Cancel(CancellationToken token)
        {
            if (TrySetCanceled(token) && IsAcquire)
            {
                // It stays in flight until the server answers: ERROR cancelled, or a LEASE that Dispatch gives back.
                connection.SendCancel(Id);
            }
        }
    }
}

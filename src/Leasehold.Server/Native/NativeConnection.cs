using System.IO.Pipelines;
using System.Security.Claims;
using Leasehold.Core;
using Leasehold.Core.Pools;
using Leasehold.Protocol;
using Leasehold.Protocol.Native;
using Leasehold.Server.Engine;
using Microsoft.AspNetCore.Connections;

namespace Leasehold.Server.Native;

/// <summary>
/// One native connection (docs/protocol.md): a read loop that cuts frames and starts each request, answers
/// written straight into the connection's output under one lock, and flushed once per round: by the reader after
/// the frames of one read, by the thread that completes a batch after all of that batch's answers, by anyone else
/// at once. Everything it holds is bounded: one frame, the requests in flight (beyond them it stops reading), the
/// output (while a flush waits for the peer, it stops reading).
/// </summary>
internal sealed partial class NativeConnection(ConnectionContext connection, NativeShared shared) : ISessionWatcher, IAfterBatch
{
    /// <summary>The connection whose read loop is dispatching frames on this thread: it flushes once they are all started.</summary>
    [ThreadStatic]
    private static NativeConnection? t_reading;

    private readonly PipeReader _input = connection.Transport.Input;
    private readonly PipeWriter _output = connection.Transport.Output;
    private readonly Lock _write = new();
    private readonly Lock _state = new();
    private readonly Dictionary<uint, Request> _inFlight = [];
    private readonly Stack<Request> _free = new();
    private readonly SemaphoreSlim _slots = new(shared.Options.MaxInFlight, shared.Options.MaxInFlight);
    private readonly CancellationTokenSource _closed = new();

    // Under _write: leases whose LEASE answer is written (a push for one may follow), pushes held until it is.
    private readonly HashSet<long> _answered = [];
    private readonly Dictionary<long, EndReason> _heldPushes = [];

    private ClaimsPrincipal _user = NativeShared.Anonymous;
    private CancellationTokenRegistration _credentialWatch;
    private string? _principal;
    private string? _credential;
    private volatile Task? _pendingFlush;
    private bool _flushing;
    private bool _flushAgain;
    private bool _dead;
    private long _lastInput = Environment.TickCount64;

    public async Task RunAsync()
    {
        // A stopping server closes its connections at once rather than waiting for their clients to hang up.
        using var stopping = shared.Stopping.Register(static closed => ((CancellationTokenSource)closed!).Cancel(), _closed);
        // A node that stops leading closes its connections: their clients reconnect to the new leader (docs/protocol.md, cluster).
        using var leadership = shared.LeadershipEnded.Register(static closed => ((CancellationTokenSource)closed!).Cancel(), _closed);
        try
        {
            if (!await HandshakeAsync())
            {
                return;
            }
            var keepAlive = KeepBoundSessionsAsync();
            var idle = WatchIdleAsync();
            try
            {
                await ReadLoopAsync();
            }
            finally
            {
                _closed.Cancel();
                await keepAlive.ConfigureAwait(false);
                await idle.ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer went away, or the server is stopping: nothing to answer.
        }
        finally
        {
            _credentialWatch.Dispose();
            MarkDead();
            _closed.Cancel();
            await _input.CompleteAsync().ConfigureAwait(false);
            await _output.CompleteAsync().ConfigureAwait(false);
            // Not awaited: the connection is done either way, and a cluster leader that lost its quorum answers the
            // writer's items only when its leadership ends (a stopping server would wait for that). It never throws.
            _ = StopWatchingAsync();
        }
    }

    /// <summary>
    /// The connection is gone: the leases granted on it and the sessions opened on it live on (a lease without a ttl, a
    /// session kept alive from elsewhere, for ever), but nobody is left here to tell of their end, so the engine host
    /// stops telling this connection, which it would otherwise keep (pipes, buffers, requests) as long as they live.
    /// Run on the writer, after every grant it watched for this connection: one whose LEASE was not written is
    /// forgotten by the grant's own path (the connection is dead: ForgetGrantAsync), a session opened from now on is not
    /// watched, and the rest are in the sets read here.
    /// </summary>
    private async Task StopWatchingAsync()
    {
        lock (_write)
        {
            if (_answered.Count == 0 && _heldPushes.Count == 0 && _watchedSessions.Count == 0)
            {
                // Nothing granted or opened here is alive (most connections that end, refused handshakes included): no
                // round trip through the writer. Anything granted from now on finds the connection dead and unwatches itself.
                return;
            }
        }
        try
        {
            await shared.Host.Submit(new StopWatchingItem(this)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Refused by the writer: the server is stopping, this node no longer leads (its watches went with its engine),
            // or its writer or log failed (nothing changes any more). Nothing watched matters then; the connection ends anyway.
        }
    }

    /// <summary>On the writer: this connection watches none of the leases and sessions it was told of; how many it watched.</summary>
    private sealed class StopWatchingItem(NativeConnection connection) : ValueItem<int>
    {
        protected override int Compute(Writer writer)
        {
            long[] leases;
            long[] sessions;
            lock (connection._write)
            {
                leases = [.. connection._answered, .. connection._heldPushes.Keys];
                sessions = [.. connection._watchedSessions];
            }
            foreach (var lease in leases)
            {
                writer.Unwatch(EndedKind.Lease, lease, connection);
            }
            foreach (var session in sessions)
            {
                writer.Unwatch(EndedKind.Session, session, connection);
            }
            return leases.Length + sessions.Length;
        }
    }

    /// <summary>When the unread start of a frame arrived (<see cref="Environment.TickCount64"/>), or 0 when none waits.</summary>
    private long _partialSince;

    private void MarkDead()
    {
        lock (_write)
        {
            _dead = true;
        }
    }

    private async Task ReadLoopAsync()
    {
        var max = shared.Options.MaxFrameBytes;
        while (true)
        {
            // A peer that does not read its answers: stop reading its requests until the output drains. (What waits
            // unread meanwhile waits on this server: no partial frame counts; an idle peer is still closed.)
            if (_pendingFlush is { IsCompleted: false } flushing)
            {
                Volatile.Write(ref _partialSince, 0);
                await flushing.ConfigureAwait(false);
            }
            var result = await _input.ReadAsync(_closed.Token).ConfigureAwait(false);
            Volatile.Write(ref _lastInput, Environment.TickCount64);
            var buffer = result.Buffer;
            var close = false;
            var full = false;
            var took = false;
            while (true)
            {
                if (_slots.CurrentCount == 0)
                {
                    full = true;
                    break;
                }
                var status = FrameReader.TryRead(ref buffer, max, out var frame, out var length);
                if (status == FrameStatus.NeedMore)
                {
                    break;
                }
                if (status == FrameStatus.TooLarge)
                {
                    WriteError(0, NativeProtocol.FrameTooLarge, 413, $"a frame of {length} bytes is over the limit of {max} (Leasehold:Native:MaxFrameBytes)");
                    close = true;
                    break;
                }
                if (status == FrameStatus.TooSmall)
                {
                    WriteError(0, NativeProtocol.ProtocolError, 400, $"a frame length of {length} is under 5 (type and id)");
                    close = true;
                    break;
                }
                took = true;
                t_reading = this;
                try
                {
                    Dispatch(frame);
                }
                finally
                {
                    t_reading = null;
                }
            }
            if (full)
            {
                // Leave the rest unexamined, so that it is read again at once when a slot frees (its wait is this
                // server's, not the peer's: no partial frame counts meanwhile).
                _input.AdvanceTo(buffer.Start);
                Volatile.Write(ref _partialSince, 0);
                Flush();
                await _slots.WaitAsync(_closed.Token).ConfigureAwait(false);
                _slots.Release();
                continue;
            }
            _input.AdvanceTo(buffer.Start, buffer.End);
            // What is left is the start of a frame (a new one when a frame was taken from this read): it must be whole
            // within the idle time of its first bytes (WatchIdleAsync).
            Volatile.Write(ref _partialSince, buffer.IsEmpty ? 0 : took || _partialSince == 0 ? Environment.TickCount64 : _partialSince);
            Flush();
            if (close)
            {
                await FlushNowAsync().ConfigureAwait(false);
                return;
            }
            if (result.IsCompleted || result.IsCanceled)
            {
                return;
            }
        }
    }

    private async Task<bool> HandshakeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(shared.Options.HandshakeSeconds));
        using var link = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, connection.ConnectionClosed);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await _input.ReadAsync(link.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                await RefuseAsync(NativeProtocol.ProtocolError, 408, $"no HELLO within {shared.Options.HandshakeSeconds} s (Leasehold:Native:HandshakeSeconds)");
                return false;
            }
            var buffer = result.Buffer;
            var status = FrameReader.TryRead(ref buffer, shared.Options.MaxFrameBytes, out var frame, out var length);
            if (status == FrameStatus.NeedMore)
            {
                _input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return false;
                }
                continue;
            }
            if (status != FrameStatus.Frame)
            {
                await RefuseAsync(status == FrameStatus.TooLarge ? NativeProtocol.FrameTooLarge : NativeProtocol.ProtocolError,
                    (ushort)(status == FrameStatus.TooLarge ? 413 : 400), $"the first frame's length {length} is not allowed");
                return false;
            }
            shared.Metrics.NativeMessage(frame.Type);
            var refused = await HelloAsync(frame);
            _input.AdvanceTo(buffer.Start);
            if (refused)
            {
                await FlushNowAsync();
                return false;
            }
            await FlushNowAsync();
            return true;
        }
    }

    /// <summary>Answers HELLO: true when the connection was refused (the ERROR is written).</summary>
    private async Task<bool> HelloAsync(Frame frame)
    {
        if (frame.Type != FrameType.Hello || frame.Id == 0 || !NativeFrames.TryParse<HelloMessage>(frame.Payload, out var hello))
        {
            WriteError(0, NativeProtocol.ProtocolError, 400, frame.Type != FrameType.Hello
                ? $"the first frame must be HELLO (0x01), not 0x{(byte)frame.Type:X2}"
                : "HELLO must carry the magic LHP1, a version, a credential and a client name, with a non-zero id");
            return true;
        }
        if (hello.Version != NativeProtocol.Version)
        {
            WriteError(0, NativeProtocol.UnsupportedVersion, 400, $"version {hello.Version} is not spoken here; this server speaks {NativeProtocol.Version}");
            return true;
        }
        if (hello.ClientName is { } name && System.Text.Encoding.UTF8.GetByteCount(name) > MaxClientNameBytes)
        {
            WriteError(0, NativeProtocol.ProtocolError, 400, $"HELLO's client name is over {MaxClientNameBytes} bytes");
            return true;
        }
        var (user, failure, expires) = await NativeIdentity.AuthenticateAsync(shared, connection, hello.Credential);
        if (failure is not null)
        {
            WriteError(0, ErrorCodes.InvalidCredentials, 401, failure);
            return true;
        }
        if (hello.Credential is not null && shared.SecurityOn)
        {
            // Checked once, here: so the connection ends when the credential may have stopped holding (the security
            // settings changed: a key removed or rotated), and when it expires. The client reconnects and is checked anew.
            _credentialWatch = shared.CredentialsChanged.Register(static closed => ((CancellationTokenSource)closed!).Cancel(), _closed);
            if (expires is { } at)
            {
                var left = at - DateTimeOffset.UtcNow;
                if (left < TimeSpan.FromDays(24))
                {
                    _closed.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
                }
            }
        }
        _user = user;
        _principal = Security.Caller.NameOf(user);
        _credential = hello.Credential;
        LogHello(shared.Logger, connection.ConnectionId, connection.RemoteEndPoint?.ToString(), hello.ClientName, _principal);
        lock (_write)
        {
            NativeFrames.Write(_output, frame.Id, new WelcomeMessage(NativeProtocol.Version, (uint)shared.Options.MaxFrameBytes,
                (uint)shared.Options.MaxInFlight, shared.ServerName, Role(), shared.IdleMs));
        }
        return false;
    }

    private string Role() => shared.Node is null ? "single" : shared.Node.Serving ? "leader" : "follower";

    /// <summary>The longest client name a HELLO may carry (docs/protocol.md).</summary>
    private const int MaxClientNameBytes = 256;

    [LoggerMessage(Level = LogLevel.Debug, Message = "Native connection {Connection} from {Remote}: client {ClientName}, caller {Principal}")]
    private static partial void LogHello(ILogger logger, string connection, string? remote, string? clientName, string? principal);

    private async Task RefuseAsync(string code, ushort status, string detail)
    {
        WriteError(0, code, status, detail);
        await FlushNowAsync();
    }

    private void Dispatch(in Frame frame)
    {
        var id = frame.Id;
        shared.Metrics.NativeMessage(frame.Type);
        if (id == 0)
        {
            WriteError(0, NativeProtocol.InvalidFrame, 400, $"a request's id must not be 0 (type 0x{(byte)frame.Type:X2})");
            return;
        }
        switch (frame.Type)
        {
            case FrameType.Ping:
                if (IsInFlight(id))
                {
                    return;
                }
                lock (_write)
                {
                    if (!_dead)
                    {
                        NativeFrames.WriteRaw(_output, FrameType.Pong, id, frame.Payload);
                    }
                }
                return;
            case FrameType.Hello:
                WriteError(id, NativeProtocol.ProtocolError, 400, "HELLO was already sent on this connection");
                return;
            case FrameType.Cancel:
                if (!NativeFrames.TryParse<CancelMessage>(frame.Payload, out var cancel))
                {
                    InvalidFrame(id, frame.Type);
                    return;
                }
                Cancel(id, cancel.Target);
                return;
            case FrameType.Acquire:
                if (NativeFrames.TryParse<AcquireMessage>(frame.Payload, out var acquire))
                {
                    if (Begin(id, acquire.WaitMs > 0) is { } entry)
                    {
                        StartAcquire(entry, acquire);
                    }
                    return;
                }
                break;
            case FrameType.Release or FrameType.Renew:
                if (Begin(id, false) is { } withToken)
                {
                    StartWithToken(withToken, frame.Type, frame.Payload);
                }
                return;
            case FrameType.GetLease:
                if (NativeFrames.TryParse<GetLeaseMessage>(frame.Payload, out var get))
                {
                    if (Begin(id, false) is { } reading)
                    {
                        StartGetLease(reading, (long)get.LeaseId);
                    }
                    return;
                }
                break;
            case FrameType.SessionOpen:
                if (NativeFrames.TryParse<SessionOpenMessage>(frame.Payload, out var open))
                {
                    if (Begin(id, false) is not null)
                    {
                        _ = OpenSessionAsync(id, open);
                    }
                    return;
                }
                break;
            case FrameType.SessionKeepAlive:
                if (NativeFrames.TryParse<SessionKeepAliveMessage>(frame.Payload, out var keep))
                {
                    if (Begin(id, false) is not null)
                    {
                        _ = KeepAliveAsync(id, keep);
                    }
                    return;
                }
                break;
            case FrameType.SessionClose:
                if (NativeFrames.TryParse<SessionCloseMessage>(frame.Payload, out var close))
                {
                    if (Begin(id, false) is not null)
                    {
                        _ = CloseSessionAsync(id, close);
                    }
                    return;
                }
                break;
            case FrameType.Watch:
                if (NativeFrames.TryParse<WatchMessage>(frame.Payload, out var watch))
                {
                    if (Begin(id, true) is { } watching)
                    {
                        _ = WatchAsync(watching, watch);
                    }
                    return;
                }
                break;
            case FrameType.Call:
                if (NativeFrames.TryParse<CallMessage>(frame.Payload, out var call))
                {
                    // Cancellable, as a CALL may wait (an acquire with a wait; a forward to the leader).
                    if (Begin(id, true) is { } calling)
                    {
                        _ = CallAsync(id, call, calling.Cancel!.Token);
                    }
                    return;
                }
                break;
            default:
                WriteError(id, NativeProtocol.UnknownMessage, 400, $"no message type 0x{(byte)frame.Type:X2}");
                return;
        }
        InvalidFrame(id, frame.Type);
    }

    private void InvalidFrame(uint id, FrameType type)
        => WriteError(id, NativeProtocol.InvalidFrame, 400, $"the payload of {type} does not parse (a field cut short, ill-formed UTF-8, bytes left over or a reserved flag)");

    /// <summary>Takes a slot and records the id as in flight; null (and the ERROR written) for an id already in flight.</summary>
    private Request? Begin(uint id, bool cancellable)
    {
        Request? entry;
        lock (_state)
        {
            entry = _free.TryPop(out var free) ? free : new Request(this);
            entry.Id = id;
            if (!_inFlight.TryAdd(id, entry))
            {
                entry.Reset();
                _free.Push(entry);
                entry = null;
            }
        }
        if (entry is null)
        {
            WriteError(id, ErrorCodes.InvalidArgument, 400, $"request id {id} is already in flight on this connection");
            return null;
        }
        if (cancellable)
        {
            entry.Cancel = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token);
        }
        // The reader checked that a slot is free, and only the reader takes them.
        _slots.Wait(0);
        return entry;
    }

    /// <summary>The request is answered (its frame written): its id and slot are free again.</summary>
    private void End(uint id)
    {
        Request? entry;
        lock (_state)
        {
            _inFlight.Remove(id, out entry);
        }
        if (entry is null)
        {
            return;
        }
        entry.Cancel?.Dispose();
        entry.Permit?.Dispose();
        var canceller = entry.CancelledBy;
        // Answered: the object serves the next request of the connection.
        entry.Reset();
        lock (_state)
        {
            _free.Push(entry);
        }
        if (canceller != 0)
        {
            lock (_write)
            {
                if (!_dead)
                {
                    NativeFrames.Write(_output, canceller, new OkMessage());
                }
            }
            End(canceller);
        }
        _slots.Release();
        RequestFlush();
    }

    /// <summary>An id already in flight: answered invalid-argument, as for any request (the earlier one is unaffected).</summary>
    private bool IsInFlight(uint id)
    {
        bool busy;
        lock (_state)
        {
            busy = _inFlight.ContainsKey(id);
        }
        if (busy)
        {
            WriteError(id, ErrorCodes.InvalidArgument, 400, $"request id {id} is already in flight on this connection");
        }
        return busy;
    }

    private void Cancel(uint id, uint target)
    {
        if (IsInFlight(id))
        {
            return;
        }
        CancellationTokenSource? cancel = null;
        lock (_state)
        {
            // The CANCEL's slot is taken before it is published: the target's End may answer (and free) it at once.
            if (_inFlight.TryGetValue(target, out var entry) && entry.Cancel is { } source && entry.CancelledBy == 0
                && !_inFlight.ContainsKey(id) && _slots.Wait(0))
            {
                _inFlight.Add(id, NewRequest(id));
                entry.CancelledBy = id;
                cancel = source;
            }
        }
        if (cancel is null)
        {
            // Nothing to cancel (answered already, never sent, or not an ACQUIRE): OK, and nothing happens.
            lock (_write)
            {
                if (!_dead)
                {
                    NativeFrames.Write(_output, id, new OkMessage());
                }
            }
            RequestFlush();
            return;
        }
        try
        {
            cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Answered in the meantime: End answers the CANCEL.
        }
    }

    /// <summary>Writes an ERROR frame (nothing once the connection is dead).</summary>
    private void WriteError(uint id, string code, ushort status, string detail, long retryAfterMs = -1, byte[]? extensions = null)
    {
        shared.Metrics.NativeError(code);
        var message = new ErrorMessage(code, status, detail, retryAfterMs, extensions);
        if (message.PayloadSize + NativeProtocol.MinLength > shared.Options.MaxFrameBytes)
        {
            // The peer takes no larger frame (a locked path's many or long holders, a long detail): the code, status and
            // retry stand, what does not fit is left out (docs/protocol.md, ERROR).
            var cut = detail.Length > MaxShortDetail ? (char.IsHighSurrogate(detail[MaxShortDetail - 1]) ? MaxShortDetail - 1 : MaxShortDetail) : detail.Length;
            message = new ErrorMessage(code, status, cut < detail.Length ? detail[..cut] + "…" : detail, retryAfterMs, null);
        }
        lock (_write)
        {
            if (!_dead)
            {
                NativeFrames.Write(_output, id, message);
            }
        }
    }

    /// <summary>The longest detail of an ERROR that had to be shortened to fit a frame (the smallest frame allowed is 1 KiB).</summary>
    private const int MaxShortDetail = 256;

    /// <summary>Answers a request with an ERROR and frees its id.</summary>
    private void Fail(uint id, string code, ushort status, string? detail, long retryAfterMs = -1, byte[]? extensions = null)
    {
        WriteError(id, code, status, detail ?? code, retryAfterMs, extensions);
        End(id);
    }

    /// <summary>Under _state: a request object for <paramref name="id"/>, reused when one is free.</summary>
    private Request NewRequest(uint id)
    {
        var request = _free.TryPop(out var free) ? free : new Request(this);
        request.Id = id;
        return request;
    }

    /// <summary>
    /// Something was written: flushed by the reader when this thread is dispatching its frames, after the batch when
    /// this thread is completing one (once for all its answers), otherwise now.
    /// </summary>
    private void RequestFlush()
    {
        if (ReferenceEquals(t_reading, this) || Engine.AfterBatch.Register(this))
        {
            return;
        }
        Flush();
    }

    void IAfterBatch.AfterBatch()
    {
        if (!ReferenceEquals(t_reading, this))
        {
            Flush();
        }
    }

    /// <summary>
    /// Flushes what is written. One flush at a time: while one waits for the peer (output over Kestrel's threshold),
    /// a later call only asks for another when it ends, and the reader stops reading (<see cref="_pendingFlush"/>).
    /// </summary>
    private void Flush()
    {
        ValueTask<FlushResult> flush;
        lock (_write)
        {
            if (_dead)
            {
                return;
            }
            if (_flushing)
            {
                _flushAgain = true;
                return;
            }
            try
            {
                flush = _output.FlushAsync();
            }
            catch (Exception ex) when (ex is IOException or ConnectionResetException or OperationCanceledException or InvalidOperationException)
            {
                _dead = true;
                return;
            }
            _flushing = !flush.IsCompleted;
        }
        if (!flush.IsCompleted)
        {
            _pendingFlush = AwaitFlushAsync(flush);
            return;
        }
        try
        {
            if (flush.Result.IsCompleted)
            {
                MarkDead();
            }
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or OperationCanceledException or InvalidOperationException)
        {
            MarkDead();
        }
    }

    private async Task AwaitFlushAsync(ValueTask<FlushResult> flush)
    {
        try
        {
            if ((await flush.ConfigureAwait(false)).IsCompleted)
            {
                MarkDead();
                return;
            }
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or OperationCanceledException or InvalidOperationException)
        {
            MarkDead();
            _closed.Cancel();
            return;
        }
        bool again;
        lock (_write)
        {
            _flushing = false;
            again = _flushAgain;
            _flushAgain = false;
        }
        if (again)
        {
            Flush();
        }
    }

    /// <summary>Flushes at once and waits for it (the handshake, and the last words before closing).</summary>
    private async Task FlushNowAsync()
    {
        Flush();
        if (_pendingFlush is { IsCompleted: false } pending)
        {
            await pending.ConfigureAwait(false);
        }
    }

    /// <summary>Closes a connection silent for the idle time with nothing in flight (docs/protocol.md, idleMs).</summary>
    private async Task WatchIdleAsync()
    {
        var idleMs = (long)shared.Idle.TotalMilliseconds;
        try
        {
            while (!_closed.IsCancellationRequested)
            {
                var now = Environment.TickCount64;
                var quiet = now - Volatile.Read(ref _lastInput);
                if (quiet >= idleMs && _slots.CurrentCount == shared.Options.MaxInFlight)
                {
                    connection.Abort(new ConnectionAbortedException("idle"));
                    return;
                }
                // A frame begun and never finished (a peer sending a byte now and then) holds its buffer: it gets as long
                // as an idle connection, then the connection is closed, as HTTP's request-headers timeout does.
                var partial = Volatile.Read(ref _partialSince);
                if (partial != 0 && now - partial >= idleMs)
                {
                    WriteError(0, NativeProtocol.ProtocolError, 408, $"a frame begun {(now - partial) / 1000} s ago is still incomplete (a frame must arrive whole within idleMs)");
                    try
                    {
                        await FlushNowAsync().WaitAsync(TimeSpan.FromSeconds(2), _closed.Token).ConfigureAwait(false);
                    }
                    catch (TimeoutException)
                    {
                        // A peer that does not read gets no last word.
                        connection.Abort(new ConnectionAbortedException("incomplete frame"));
                        return;
                    }
                    // The read loop ends, and the connection closes after the ERROR, as a refused handshake does.
                    _closed.Cancel();
                    return;
                }
                var wait = Math.Min(idleMs - quiet, partial != 0 ? idleMs - (now - partial) : long.MaxValue);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(250, wait)), _closed.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

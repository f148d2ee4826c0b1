using Leasehold.Core;
using Leasehold.Protocol;
using Leasehold.Protocol.Native;
using Leasehold.Server.Engine;
using Leasehold.Server.Security;

namespace Leasehold.Server.Native;

internal sealed partial class NativeConnection
{
    // Under _write: sessions bound to this connection, kept alive while it lives (docs/protocol.md, SESSION_OPEN).
    private readonly Dictionary<long, (UInt128 Hash, long TtlMs)> _bound = [];

    // Under _write: the sessions opened here that the engine host tells this connection about (added on the writer).
    private readonly HashSet<long> _watchedSessions = [];

    // Released when a session is bound, so the keep-alive loop plans its first keep-alive from now, not after its nap.
    private readonly SemaphoreSlim _boundAdded = new(0, 1);

    private async Task OpenSessionAsync(uint id, SessionOpenMessage message)
    {
        try
        {
            if (!Admit(id, out var permit))
            {
                return;
            }
            using (permit)
            {
                if (shared.SecurityOn && await Access.CheckAsync(shared.Services, _user, Right.Lock, PathScope.Anywhere, "native", "SESSION_OPEN") is { } denied)
                {
                    Deny(id, denied);
                    return;
                }
                var ttl = message.TtlMs == -1 ? DefaultSessionTtlMs : message.TtlMs;
                if (ttl is <= 0 or > MaxSessionTtlMs)
                {
                    Fail(id, ErrorCodes.InvalidArgument, 400, "ttlMs is -1 (30 s) or up to 86400000");
                    return;
                }
                var token = Tokens.New();
                var (error, session, detail) = await shared.Host.OpenSessionAsync(ttl, message.Owner, _principal, token, this).ConfigureAwait(false);
                if (session is not null && (message.Flags & SessionFlags.Bound) != 0)
                {
                    lock (_write)
                    {
                        _bound[session.Id] = (Tokens.Hash(token), ttl);
                    }
                    if (_boundAdded.CurrentCount == 0)
                    {
                        try
                        {
                            _boundAdded.Release();
                        }
                        catch (SemaphoreFullException)
                        {
                            // Another bind woke the loop already.
                        }
                    }
                }
                AnswerSession(id, error, session, detail);
            }
        }
        catch (Exception ex)
        {
            FailUnexpected(id, ex);
        }
    }

    private async Task KeepAliveAsync(uint id, SessionKeepAliveMessage message)
    {
        try
        {
            if (!Admit(id, out var permit) || !TryToken(id, message.Token, out var token))
            {
                permit?.Dispose();
                return;
            }
            using (permit)
            {
                var sessionId = (long)message.SessionId;
                if (await DenyOnSessionAsync(id, sessionId, "SESSION_KEEPALIVE"))
                {
                    return;
                }
                var (error, session, detail) = await shared.Host.KeepSessionAliveAsync(sessionId, Tokens.Hash(token)).ConfigureAwait(false);
                AnswerSession(id, error, session, detail);
            }
        }
        catch (Exception ex)
        {
            FailUnexpected(id, ex);
        }
    }

    private async Task CloseSessionAsync(uint id, SessionCloseMessage message)
    {
        try
        {
            if (!Admit(id, out var permit) || !TryToken(id, message.Token, out var token))
            {
                permit?.Dispose();
                return;
            }
            using (permit)
            {
                var sessionId = (long)message.SessionId;
                if (await DenyOnSessionAsync(id, sessionId, "SESSION_CLOSE"))
                {
                    return;
                }
                var hash = Tokens.Hash(token);
                lock (_write)
                {
                    // Before the close: its leases' endings, reported with it, are this connection's own doing.
                    _closedSessions.Add(sessionId);
                }
                var result = await shared.Host.CloseSessionAsync(sessionId, hash, this).ConfigureAwait(false);
                lock (_write)
                {
                    if (result.Error != ErrorCode.None)
                    {
                        _closedSessions.Remove(sessionId);
                    }
                    else
                    {
                        ForgetClosedIfDone(sessionId);
                    }
                    ForgetBound(sessionId);
                }
                if (result.Error != ErrorCode.None)
                {
                    FailEngine(id, result.Error, result.Detail);
                    return;
                }
                lock (_write)
                {
                    if (!_dead)
                    {
                        NativeFrames.Write(_output, id, new OkMessage());
                    }
                }
                End(id);
            }
        }
        catch (Exception ex)
        {
            FailUnexpected(id, ex);
        }
    }

    /// <summary>As HTTP: lock somewhere for one's own session, admin on everything for another principal's. True when denied (answered).</summary>
    private async ValueTask<bool> DenyOnSessionAsync(uint id, long sessionId, string what)
    {
        if (!shared.SecurityOn)
        {
            return false;
        }
        var (found, principal) = await shared.Host.GetSessionPrincipalAsync(sessionId).ConfigureAwait(false);
        var own = !found || string.Equals(principal, _principal, StringComparison.Ordinal);
        var denied = own
            ? await Access.CheckAsync(shared.Services, _user, Right.Lock, PathScope.Anywhere, "native", what)
            : await Access.CheckAsync(shared.Services, _user, Right.Admin, PathScope.Root, "native", what);
        if (denied is null)
        {
            return false;
        }
        Deny(id, denied);
        return true;
    }

    private void AnswerSession(uint id, ErrorCode error, SessionDto? session, string? detail)
    {
        if (error != ErrorCode.None || session is null)
        {
            FailEngine(id, error, detail);
            return;
        }
        var message = new SessionMessage((ulong)session.Id, session.Token, session.Owner, session.Principal,
            (long)Math.Round(session.Ttl * 1000), session.ExpiresAt.ToUnixTimeMilliseconds(), session.Leases);
        lock (_write)
        {
            if (!_dead)
            {
                NativeFrames.Write(_output, id, message);
            }
        }
        End(id);
    }

    /// <summary>Under _write.</summary>
    private void ForgetBound(long sessionId) => _bound.Remove(sessionId);

    /// <summary>On the writer, as a session opened here opens: watched unless the connection is gone.</summary>
    bool ISessionWatcher.Watching(long sessionId)
    {
        lock (_write)
        {
            // (A connection already gone has stopped being watched, or is about to: not again.)
            if (_dead)
            {
                return false;
            }
            _watchedSessions.Add(sessionId);
            return true;
        }
    }

    /// <summary>On the writer, once a session this connection watched is closed by it.</summary>
    void ISessionWatcher.Closed(long sessionId)
    {
        lock (_write)
        {
            _watchedSessions.Remove(sessionId);
        }
    }

    /// <summary>
    /// Keeps the bound sessions alive while the connection lives: each a third of its ttl after the last time. When
    /// the connection ends this stops, and each session ends one ttl after its last keep-alive (unless a client
    /// keeps it alive with its token in time).
    /// </summary>
    private async Task KeepBoundSessionsAsync()
    {
        var due = new List<(long Id, UInt128 Hash)>();
        var next = new Dictionary<long, long>();
        try
        {
            while (!_closed.IsCancellationRequested)
            {
                var now = Environment.TickCount64;
                var wait = 1000L;
                due.Clear();
                lock (_write)
                {
                    // Sessions closed or ended since: their plans go too (a long-lived connection may bind many in turn).
                    if (next.Count > _bound.Count)
                    {
                        foreach (var gone in next.Keys.Where(id => !_bound.ContainsKey(id)).ToList())
                        {
                            next.Remove(gone);
                        }
                    }
                    foreach (var (sessionId, (hash, ttl)) in _bound)
                    {
                        var period = Math.Max(100, ttl / 3);
                        if (!next.TryGetValue(sessionId, out var at))
                        {
                            next[sessionId] = at = now + period;
                        }
                        if (at <= now)
                        {
                            due.Add((sessionId, hash));
                            next[sessionId] = at = now + period;
                        }
                        wait = Math.Min(wait, at - now);
                    }
                }
                foreach (var (sessionId, hash) in due)
                {
                    try
                    {
                        await shared.Host.KeepSessionAliveAsync(sessionId, hash).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // Not leading any more, or stopping: the session lives its ttl out; nothing to do here.
                    }
                }
                await _boundAdded.WaitAsync(TimeSpan.FromMilliseconds(Math.Max(50, wait)), _closed.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

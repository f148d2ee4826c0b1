using Leasehold.Core.Pools;

namespace Leasehold.Core;

public sealed partial class LockEngine
{
    public OperationResult<Session> Open(OpenSession command)
    {
        if (command.TtlMs < Limits.MinSessionTtlMs || command.TtlMs > Limits.MaxSessionTtlMs)
        {
            return OperationResult<Session>.Fail(ErrorCode.InvalidArgument,
                $"a session's ttl is between {Limits.MinSessionTtlMs / 1000} and {Limits.MaxSessionTtlMs / 1000} seconds");
        }
        if ((CheckOwner(command.Owner) ?? CheckName(command.Principal, "principal")) is { } ownerError)
        {
            return OperationResult<Session>.Fail(ErrorCode.InvalidArgument, ownerError);
        }
        Changes++;
        var session = new Session
        {
            Id = ++_lastSessionId,
            Token = command.Token,
            Owner = command.Owner,
            Principal = command.Principal,
            TtlMs = command.TtlMs,
            ExpiresAt = command.Now + command.TtlMs,
        };
        _sessions.Add(session.Id, session);
        Tally(session.Principal).Sessions++;
        Schedule(session);
        EmitSession(EventKind.SessionOpened, session, command.Now);
        return new OperationResult<Session>(ErrorCode.None, session);
    }

    public OperationResult<Session> KeepAlive(KeepAliveSession command)
    {
        var found = FindSession(command.SessionId, command.Token);
        if (found.Value is { } session)
        {
            Changes++;
            session.ExpiresAt = command.Now + session.TtlMs;
            Schedule(session);
        }
        return found;
    }

    /// <summary>Ends a session and, at once, every lease bound to it; its waiters fail.</summary>
    public OperationResult<Session> Close(CloseSession command)
    {
        var found = FindSession(command.SessionId, command.Token);
        if (found.Value is { } session)
        {
            End(session, EndReason.Released, command.Now);
            ServeQueue(command.Now);
        }
        return found;
    }

    public Session? GetSession(long id) => _sessions.GetValueOrDefault(id);

    private OperationResult<Session> FindSession(long id, UInt128 token)
    {
        if (!_sessions.TryGetValue(id, out var session))
        {
            return OperationResult<Session>.Fail(ErrorCode.NotFound, $"session {id} does not exist (closed or expired)");
        }
        return session.Token == token
            ? new OperationResult<Session>(ErrorCode.None, session)
            : OperationResult<Session>.Fail(ErrorCode.InvalidToken, $"the token does not match session {id}");
    }

    /// <param name="session">The session to end.</param>
    /// <param name="reason">Why: closed with its token (Released), Expired, or ended by an administrator (Revoked).</param>
    /// <param name="now">When.</param>
    /// <param name="endedBy">The administrator who ended it, recorded on its leases' history, or null.</param>
    private void End(Session session, EndReason reason, long now, string? endedBy = null)
    {
        Changes++;
        _sessions.Remove(session.Id);
        _deadlines.Remove(session);
        EmitSession(EventKind.SessionEnded, session, now, reason, endedBy);
        if (TrackEnded)
        {
            _ended.Add(new Ended(EndedKind.Session, session.Id, reason));
        }
        Untally(session.Principal, t => t.Sessions--);
        // In id order, not the set's: release order decides which pool resource is chosen next, so a
        // restored engine must end them in the same order as the live one.
        foreach (var id in session.LeaseIds.Order())
        {
            End(_leases[id], EndReason.SessionEnded, now, endedBy);
        }
        // In id order (which is queue order), so the outcomes come out the same in a replay.
        foreach (var id in session.WaiterIds.Order())
        {
            var waiter = _waiters[id];
            Dequeue(waiter, DequeueReason.SessionEnded, now);
            _outcomes.Add(new WaiterOutcome(id, ErrorCode.SessionEnded, null));
        }
        session.LeaseIds.Clear();
        session.WaiterIds.Clear();
    }
}

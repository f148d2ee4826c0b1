using Leasehold.Core.Pools;

namespace Leasehold.Core;

public sealed partial class LockEngine
{
    /// <summary>Ends a lease without its token; the history records it as revoked by the actor.</summary>
    public OperationResult<Lease> Revoke(RevokeLease command)
    {
        if (CheckName(command.Actor, "actor") is { } error)
        {
            return OperationResult<Lease>.Fail(ErrorCode.InvalidArgument, error);
        }
        if (!_leases.TryGetValue(command.LeaseId, out var lease))
        {
            return OperationResult<Lease>.Fail(ErrorCode.NotFound, $"lease {command.LeaseId} is not held (never granted, released, or expired)");
        }
        End(lease, EndReason.Revoked, command.Now, ActorName(command.Actor));
        ServeQueue(command.Now);
        return new OperationResult<Lease>(ErrorCode.None, lease);
    }

    /// <summary>Ends a session without its token, as if it had expired; its leases' history names the actor.</summary>
    public OperationResult<Session> EndSession(EndSession command)
    {
        if (CheckName(command.Actor, "actor") is { } error)
        {
            return OperationResult<Session>.Fail(ErrorCode.InvalidArgument, error);
        }
        if (!_sessions.TryGetValue(command.SessionId, out var session))
        {
            return OperationResult<Session>.Fail(ErrorCode.NotFound, $"session {command.SessionId} does not exist (closed or expired)");
        }
        End(session, EndReason.Revoked, command.Now, ActorName(command.Actor));
        ServeQueue(command.Now);
        return new OperationResult<Session>(ErrorCode.None, session);
    }

    /// <summary>
    /// Leases matching every filter given, oldest (lowest id) first, at most <paramref name="max"/>. A read.
    /// A lease is under the prefix when any of its paths is; its age is measured from its grant.
    /// </summary>
    public IReadOnlyList<Lease> FindLeases(LeaseFilter filter, long now, int max)
    {
        var found = new List<Lease>();
        foreach (var lease in _leases.Values)
        {
            if (Matches(filter, lease.Owner, lease.Principal)
                && (filter.Prefix is not { } prefix || Array.Exists(lease.Paths, prefix.IsAncestorOrSelf))
                && now - lease.AcquiredAt >= filter.MinAgeMs)
            {
                found.Add(lease);
            }
        }
        found.Sort((a, b) => a.Id.CompareTo(b.Id));
        return found.Count > max ? found[..max] : found;
    }

    /// <summary>Sessions matching the owner and principal filters given, oldest first, at most <paramref name="max"/>. A read.</summary>
    public IReadOnlyList<Session> FindSessions(LeaseFilter filter, int max)
    {
        var found = new List<Session>();
        foreach (var session in _sessions.Values)
        {
            if (Matches(filter, session.Owner, session.Principal))
            {
                found.Add(session);
            }
        }
        found.Sort((a, b) => a.Id.CompareTo(b.Id));
        return found.Count > max ? found[..max] : found;
    }

    private static bool Matches(LeaseFilter filter, string? owner, string? principal)
        => (filter.Owner is null || string.Equals(filter.Owner, owner, StringComparison.Ordinal))
           && (filter.Principal is null || string.Equals(filter.Principal, principal, StringComparison.Ordinal));
}

/// <summary>
/// Filters for the administrator's listings; null (or 0) means any. <see cref="Principal"/> matches the
/// authenticated name; anonymous holders have none, so they are listed only without that filter.
/// </summary>
public sealed record LeaseFilter(string? Owner = null, string? Principal = null, ResourcePath? Prefix = null, long MinAgeMs = 0);

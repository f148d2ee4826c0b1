using Leasehold.Core;
using Leasehold.Protocol;
using Leasehold.Server.Wire;

namespace Leasehold.Server.Events;

/// <summary>The engine's events as the stream's records. Runs on the writer, right after the command that made them.</summary>
internal static class EventMapping
{
    /// <summary>
    /// On the writer, right after the command: the event with what a later command could change copied (a waiter's
    /// candidate paths, a pool lease's chosen resources' attributes, a declaration's
    /// attributes). Expiry, ttl and a session's lease count are in the engine's event already. Allocates only the one object, but for pool leases.
    /// </summary>
    public static PublishedEvent Capture(in EngineEvent e, LockEngine engine) => e.Kind switch
    {
        EventKind.Granted or EventKind.Renewed or EventKind.Released
            => new PublishedEvent(e, e.Lease!.Paths, chosen: e.Lease.Groups is { } groups ? Dtos.Chosen(groups, engine) : null),
        EventKind.Queued or EventKind.Dequeued => new PublishedEvent(e, e.Waiter!.Paths),
        EventKind.SessionOpened or EventKind.SessionEnded => new PublishedEvent(e, [], leases: e.Leases),
        EventKind.Declared => new PublishedEvent(e, [e.Path!], attributes: engine.GetDeclared(e.Path!)?.Attributes),
        _ => new PublishedEvent(e, [e.Path!]),
    };

    /// <summary>The stream's record of a captured event; anywhere, any time (it reads only what never changes).</summary>
    public static EventDto Build(PublishedEvent published)
    {
        var e = published.Event;
        var at = Dtos.Time(e.At);
        switch (e.Kind)
        {
            case EventKind.Granted:
            case EventKind.Renewed:
            case EventKind.Released:
            {
                var lease = e.Lease!;
                return new EventDto
                {
                    Revision = e.Revision,
                    Type = e.Kind switch
                    {
                        EventKind.Granted => EventTypes.Granted,
                        EventKind.Renewed => EventTypes.Renewed,
                        _ => EventTypes.Released,
                    },
                    At = at,
                    Lease = new LeaseDto
                    {
                        Id = lease.Id,
                        Owner = lease.Owner,
                        Principal = lease.Principal,
                        Mode = Dtos.Mode(lease.Mode),
                        Paths = Dtos.Paths(lease.Paths),
                        Limit = lease.Mode == LockMode.Exclusive ? lease.Limit : null,
                        Ttl = e.TtlMs > 0 ? Dtos.Seconds(e.TtlMs) : null,
                        Fence = lease.Fence,
                        AcquiredAt = Dtos.Time(lease.AcquiredAt),
                        ExpiresAt = e.ExpiresAt == long.MaxValue ? null : Dtos.Time(e.ExpiresAt),
                        Session = lease.SessionId == 0 ? null : lease.SessionId,
                        LockParents = lease.LockParents,
                        LockChildren = lease.LockChildren,
                        Waited = Dtos.Seconds(lease.WaitedMs),
                        Resources = published.Chosen,
                    },
                    Waited = e.Kind == EventKind.Granted ? Dtos.Seconds(lease.WaitedMs) : null,
                    Held = e.Kind == EventKind.Released ? Dtos.Seconds(e.At - lease.AcquiredAt) : null,
                    Reason = e.Kind == EventKind.Released ? Dtos.Reason(e.EndReason) : null,
                    EndedBy = e.Kind == EventKind.Released ? e.Text : null,
                };
            }
            case EventKind.Queued:
            case EventKind.Dequeued:
            {
                var waiter = e.Waiter!;
                return new EventDto
                {
                    Revision = e.Revision,
                    Type = e.Kind == EventKind.Queued ? EventTypes.Queued : EventTypes.Dequeued,
                    At = at,
                    Waiter = new WaiterDto
                    {
                        Id = waiter.Id,
                        Owner = waiter.Owner,
                        Mode = Dtos.Mode(waiter.Mode),
                        Paths = [.. published.Paths.Select(p => p.Value)],
                        Since = Dtos.Time(waiter.EnqueuedAt),
                        Waiting = Dtos.Seconds(e.At - waiter.EnqueuedAt),
                    },
                    Reason = e.Kind == EventKind.Dequeued ? Reason(e.DequeueReason) : null,
                };
            }
            case EventKind.SessionOpened:
            case EventKind.SessionEnded:
            {
                var session = e.Session!;
                var ended = e.Kind == EventKind.SessionEnded;
                return new EventDto
                {
                    Revision = e.Revision,
                    Type = ended ? EventTypes.SessionEnded : EventTypes.SessionOpened,
                    At = at,
                    Session = new SessionDto
                    {
                        Id = session.Id,
                        Owner = session.Owner,
                        Principal = session.Principal,
                        Ttl = Dtos.Seconds(e.TtlMs),
                        ExpiresAt = Dtos.Time(e.ExpiresAt),
                        Leases = published.Leases,
                    },
                    Reason = ended ? SessionReason(e.EndReason) : null,
                    EndedBy = ended ? e.Text : null,
                };
            }
            case EventKind.Declared:
                return new EventDto { Revision = e.Revision, Type = EventTypes.Declared, At = at, Path = e.Path!.Value, Attributes = published.Attributes };
            case EventKind.Removed:
                return new EventDto { Revision = e.Revision, Type = EventTypes.Removed, At = at, Path = e.Path!.Value };
            default:
                return new EventDto
                {
                    Revision = e.Revision,
                    Type = e.Kind == EventKind.Drained ? EventTypes.Drained : EventTypes.Undrained,
                    At = at,
                    Path = e.Path!.Value,
                    Actor = e.Text,
                };
        }
    }

    public static string Reason(DequeueReason reason) => reason switch
    {
        DequeueReason.Granted => "granted",
        DequeueReason.Timeout => "timeout",
        DequeueReason.Cancelled => "cancelled",
        DequeueReason.SessionEnded => "session-ended",
        DequeueReason.ShuttingDown => "shutting-down",
        DequeueReason.LeaderChanged => "leader-changed",
        DequeueReason.LimitMismatch => "limit-mismatch",
        _ => "no-match",
    };

    private static string SessionReason(Core.Pools.EndReason reason) => reason switch
    {
        Core.Pools.EndReason.Expired => "expired",
        Core.Pools.EndReason.Revoked => "revoked",
        _ => "closed",
    };

    /// <summary>
    /// The state under <paramref name="prefix"/> as a <c>snapshot</c> message, as of the engine's revision. On the
    /// writer, so bounded: at most <paramref name="limit"/> holders, waiters and resources each (<c>truncated</c> beyond).
    /// </summary>
    public static EventDto Snapshot(LockEngine engine, ResourcePath prefix, long now, int limit)
    {
        var holders = engine.FindLeases(new LeaseFilter(Prefix: prefix), now, limit + 1);
        var truncated = holders.Count > limit;
        var queue = new List<WaiterDto>();
        foreach (var waiter in engine.Queue)
        {
            if (Array.Exists(waiter.Paths, prefix.IsAncestorOrSelf))
            {
                if (queue.Count == limit)
                {
                    truncated = true;
                    break;
                }
                queue.Add(Dtos.ToDto(waiter, now));
            }
        }
        var declared = engine.ListDeclared(prefix);
        truncated |= declared.Count > limit;
        return new EventDto
        {
            Revision = engine.Revision,
            Type = EventTypes.Snapshot,
            At = Dtos.Time(now),
            Holders = [.. holders.Take(limit).Select(l => Dtos.ToDto(l, engine))],
            Queue = [.. queue],
            Resources = [.. declared.Take(limit).Select(Dtos.ToDto)],
            // A drain above the prefix stops grants under it; one below stops some: both concern the prefix's viewer.
            Drains = [.. engine.Drains.Where(d => prefix.IsAncestorOrSelf(d.Path) || d.Path.IsAncestorOrSelf(prefix)).OrderBy(d => d.Path.Value, StringComparer.Ordinal).Select(Dtos.ToDto)],
            Truncated = truncated ? true : null,
        };
    }
}

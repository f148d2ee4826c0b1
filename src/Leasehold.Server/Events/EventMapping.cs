using Leasehold.Core;
using Leasehold.Protocol;
using Leasehold.Server.Wire;

namespace Leasehold.Server.Events;

/// <summary>The engine's events as the stream's records. Runs on the writer, right after the command that made them.</summary>
internal static class EventMapping
{
    public static PublishedEvent ToPublished(in EngineEvent e, LockEngine engine)
    {
        var at = Dtos.Time(e.At);
        switch (e.Kind)
        {
            case EventKind.Granted:
            case EventKind.Renewed:
            case EventKind.Released:
            {
                var lease = e.Lease!;
                var dto = Dtos.ToDto(lease, engine) with
                {
                    Ttl = e.TtlMs > 0 ? Dtos.Seconds(e.TtlMs) : null,
                    ExpiresAt = e.ExpiresAt == long.MaxValue ? null : Dtos.Time(e.ExpiresAt),
                };
                var type = e.Kind switch
                {
                    EventKind.Granted => EventTypes.Granted,
                    EventKind.Renewed => EventTypes.Renewed,
                    _ => EventTypes.Released,
                };
                return new PublishedEvent(new EventDto
                {
                    Revision = e.Revision,
                    Type = type,
                    At = at,
                    Lease = dto,
                    Waited = e.Kind == EventKind.Granted ? Dtos.Seconds(lease.WaitedMs) : null,
                    Held = e.Kind == EventKind.Released ? Dtos.Seconds(e.At - lease.AcquiredAt) : null,
                    Reason = e.Kind == EventKind.Released ? Dtos.Reason(e.EndReason) : null,
                    EndedBy = e.Kind == EventKind.Released ? e.Text : null,
                }, lease.Paths);
            }
            case EventKind.Queued:
            case EventKind.Dequeued:
            {
                var waiter = e.Waiter!;
                return new PublishedEvent(new EventDto
                {
                    Revision = e.Revision,
                    Type = e.Kind == EventKind.Queued ? EventTypes.Queued : EventTypes.Dequeued,
                    At = at,
                    Waiter = Dtos.ToDto(waiter, e.At),
                    Reason = e.Kind == EventKind.Dequeued ? Reason(e.DequeueReason) : null,
                }, waiter.Paths);
            }
            case EventKind.SessionOpened:
            case EventKind.SessionEnded:
            {
                var session = Dtos.ToDto(e.Session!) with { Ttl = Dtos.Seconds(e.TtlMs), ExpiresAt = Dtos.Time(e.ExpiresAt) };
                var ended = e.Kind == EventKind.SessionEnded;
                return new PublishedEvent(new EventDto
                {
                    Revision = e.Revision,
                    Type = ended ? EventTypes.SessionEnded : EventTypes.SessionOpened,
                    At = at,
                    Session = session,
                    Reason = ended ? SessionReason(e.EndReason) : null,
                    EndedBy = ended ? e.Text : null,
                }, [], anyPrefix: true);
            }
            case EventKind.Declared:
                return new PublishedEvent(new EventDto
                {
                    Revision = e.Revision,
                    Type = EventTypes.Declared,
                    At = at,
                    Path = e.Path!.Value,
                    Attributes = engine.GetDeclared(e.Path)?.Attributes,
                }, [e.Path]);
            case EventKind.Removed:
                return new PublishedEvent(new EventDto { Revision = e.Revision, Type = EventTypes.Removed, At = at, Path = e.Path!.Value }, [e.Path]);
            default:
                return new PublishedEvent(new EventDto
                {
                    Revision = e.Revision,
                    Type = e.Kind == EventKind.Drained ? EventTypes.Drained : EventTypes.Undrained,
                    At = at,
                    Path = e.Path!.Value,
                    Actor = e.Text,
                }, [e.Path!], related: true);
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

    /// <summary>The state under <paramref name="prefix"/> as a <c>snapshot</c> message, as of the engine's revision.</summary>
    public static EventDto Snapshot(LockEngine engine, ResourcePath prefix, long now)
    {
        var holders = engine.FindLeases(new LeaseFilter(Prefix: prefix), now, int.MaxValue);
        var queue = new List<WaiterDto>();
        foreach (var waiter in engine.Queue)
        {
            if (Array.Exists(waiter.Paths, prefix.IsAncestorOrSelf))
            {
                queue.Add(Dtos.ToDto(waiter, now));
            }
        }
        return new EventDto
        {
            Revision = engine.Revision,
            Type = EventTypes.Snapshot,
            At = Dtos.Time(now),
            Holders = [.. holders.Select(l => Dtos.ToDto(l, engine))],
            Queue = [.. queue],
            Resources = [.. engine.ListDeclared(prefix).Select(r => new DeclaredResourceDto { Path = r.Path.Value, Attributes = r.Attributes })],
        };
    }
}

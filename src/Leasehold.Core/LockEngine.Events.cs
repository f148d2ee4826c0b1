using Leasehold.Core.Pools;

namespace Leasehold.Core;

public sealed partial class LockEngine
{
    private readonly List<EngineEvent> _events = [];

    /// <summary>
    /// The number of the last event (0 before the first): one more for every change an event reports, whether or
    /// not <see cref="TrackEvents"/> is on, so a replay, the snapshot replica and a cluster's followers all count the
    /// same. Part of the state: kept in snapshots and rebuilt by replay.
    /// </summary>
    public long Revision { get; private set; }

    /// <summary>
    /// Whether events are recorded for <see cref="DrainEvents"/>. Off by default: a replay or a replica, which nobody
    /// drains, only counts <see cref="Revision"/> and keeps no list. It changes no state.
    /// </summary>
    public bool TrackEvents { get; set; }

    /// <summary>
    /// Moves the events recorded since the last drain into <paramref name="into"/>, in revision order, and forgets
    /// them. The host drains after every command, while the objects they name still hold that command's values.
    /// </summary>
    public int DrainEvents(List<EngineEvent> into)
    {
        var count = _events.Count;
        if (count > 0)
        {
            into.AddRange(_events);
            _events.Clear();
        }
        return count;
    }

    private void Emit(in EngineEvent e)
    {
        if (TrackEvents)
        {
            _events.Add(e);
        }
    }

    private void EmitGranted(Lease lease, long now)
    {
        Revision++;
        if (TrackEvents)
        {
            Emit(new EngineEvent(Revision, EventKind.Granted, now, Lease: lease, ExpiresAt: lease.ExpiresAt, TtlMs: lease.TtlMs));
        }
    }

    private void EmitRenewed(Lease lease, long now)
    {
        Revision++;
        if (TrackEvents)
        {
            Emit(new EngineEvent(Revision, EventKind.Renewed, now, Lease: lease, ExpiresAt: lease.ExpiresAt, TtlMs: lease.TtlMs));
        }
    }

    private void EmitReleased(Lease lease, EndReason reason, long now, string? endedBy)
    {
        Revision++;
        if (TrackEvents)
        {
            Emit(new EngineEvent(Revision, EventKind.Released, now, Lease: lease, Text: endedBy, ExpiresAt: lease.ExpiresAt,
                TtlMs: lease.TtlMs, EndReason: reason));
        }
    }

    private void EmitQueued(Waiter waiter, long now)
    {
        Revision++;
        if (TrackEvents)
        {
            Emit(new EngineEvent(Revision, EventKind.Queued, now, Waiter: waiter));
        }
    }

    private void EmitDequeued(Waiter waiter, DequeueReason reason, long now)
    {
        Revision++;
        if (TrackEvents)
        {
            Emit(new EngineEvent(Revision, EventKind.Dequeued, now, Waiter: waiter, DequeueReason: reason));
        }
    }

    private void EmitSession(EventKind kind, Session session, long now, EndReason reason = EndReason.Released, string? endedBy = null)
    {
        Revision++;
        if (TrackEvents)
        {
            Emit(new EngineEvent(Revision, kind, now, Session: session, Text: endedBy, ExpiresAt: session.ExpiresAt,
                TtlMs: session.TtlMs, EndReason: reason, Leases: session.LeaseCount));
        }
    }

    private void EmitPath(EventKind kind, ResourcePath path, string? text, long now)
    {
        Revision++;
        if (TrackEvents)
        {
            Emit(new EngineEvent(Revision, kind, now, Path: path, Text: text));
        }
    }
}

namespace Leasehold.Core;

public sealed partial class LockEngine
{
    /// <summary>The engine's state for a snapshot, in a deterministic order (ids ascending, queue order).</summary>
    public EngineState Capture() => new(
        _lastLeaseId,
        _lastSessionId,
        _lastWaiterId,
        LastFence,
        [.. _sessions.Values.OrderBy(s => s.Id)],
        [.. _leases.Values.OrderBy(l => l.Id)],
        [.. _queue],
        _lastReleaseSeq,
        ListDeclared(ResourcePath.Root),
        [.. History],
        [.. _drains.Values],
        Revision);

    /// <summary>Rebuilds an engine from a captured state; applying the same later commands then gives the same results.</summary>
    public static LockEngine Restore(EngineState state, EngineLimits? limits = null)
    {
        var engine = new LockEngine(limits)
        {
            _lastLeaseId = state.LastLeaseId,
            _lastSessionId = state.LastSessionId,
            _lastWaiterId = state.LastWaiterId,
            LastFence = state.LastFence,
            _lastReleaseSeq = state.LastReleaseSeq,
            Revision = state.Revision,
        };
        foreach (var resource in state.Resources ?? [])
        {
            engine._tree.GetOrCreate(resource.Path).Resource = resource;
            engine._declaredCount++;
        }
        foreach (var entry in state.History ?? [])
        {
            engine.AppendHistory(entry);
        }
        foreach (var drain in state.Drains ?? [])
        {
            engine.AddDrain(drain);
        }
        foreach (var session in state.Sessions)
        {
            engine._sessions.Add(session.Id, session);
            engine.Tally(session.Principal).Sessions++;
            engine.Schedule(session);
        }
        foreach (var lease in state.Leases)
        {
            foreach (var path in lease.Paths)
            {
                var node = engine._tree.GetOrCreate(path);
                node.Holders.Add(lease);
                LockTree.Count(Layer.Held, node, lease, 1);
            }
            engine._leases.Add(lease.Id, lease);
            engine.IndexToken(lease);
            engine.Tally(lease.Principal).Leases++;
            if (lease.SessionId != 0)
            {
                engine._sessions[lease.SessionId].LeaseIds.Add(lease.Id);
            }
            if (lease.ExpiresAt != long.MaxValue)
            {
                engine.Schedule(lease);
            }
        }
        foreach (var waiter in state.Waiters)
        {
            foreach (var path in waiter.Paths)
            {
                LockTree.AddWaiter(engine._tree.GetOrCreate(path), waiter);
            }
            waiter.QueueNode = engine._queue.AddLast(waiter);
            engine._waiters.Add(waiter.Id, waiter);
            if (waiter.Groups is not null)
            {
                engine._poolWaiters.Add(waiter.Id, waiter);
            }
            engine.Tally(waiter.Principal).Waiters++;
            if (waiter.SessionId != 0)
            {
                engine._sessions[waiter.SessionId].WaiterIds.Add(waiter.Id);
            }
            engine.Schedule(waiter);
        }
        return engine;
    }

    /// <summary>
    /// After a restart: every waiter's client is gone, so the queue is dropped; every lease with a time to
    /// live gets a full ttl from <paramref name="command"/>'s time (its holder could not renew while the
    /// server was down); every session gets at least the grace period to reconnect.
    /// </summary>
    public int Recover(Recover command)
    {
        Changes++;
        ForgetCandidates();
        while (_queue.First is { } first)
        {
            Dequeue(first.Value, DequeueReason.ShuttingDown, command.Now, freesOthers: false);
        }
        // In id order: each extended lease is a renewed event, numbered the same by whoever replays this.
        foreach (var lease in _leases.Values.OrderBy(l => l.Id))
        {
            if (lease.TtlMs > 0 && lease.ExpiresAt < command.Now + lease.TtlMs)
            {
                lease.ExpiresAt = command.Now + lease.TtlMs;
                Schedule(lease);
                EmitRenewed(lease, command.Now);
            }
        }
        foreach (var session in _sessions.Values)
        {
            var until = command.Now + Math.Max(session.TtlMs, command.SessionGraceMs);
            if (session.ExpiresAt < until)
            {
                session.ExpiresAt = until;
                Schedule(session);
            }
        }
        return _leases.Count;
    }

    /// <summary>
    /// A new leader takes over: every waiter's client waited on the old leader, so the queue is dropped (the
    /// clients re-queue); every session gets at least the grace period to reach the new leader. Leases keep
    /// their deadlines, and with them their remaining time.
    /// </summary>
    public int TakeOver(TakeOver command)
    {
        Changes++;
        ForgetCandidates();
        while (_queue.First is { } first)
        {
            Dequeue(first.Value, DequeueReason.LeaderChanged, command.Now, freesOthers: false);
        }
        foreach (var session in _sessions.Values)
        {
            var until = command.Now + command.SessionGraceMs;
            if (session.ExpiresAt < until)
            {
                session.ExpiresAt = until;
                Schedule(session);
            }
        }
        return _leases.Count;
    }
}

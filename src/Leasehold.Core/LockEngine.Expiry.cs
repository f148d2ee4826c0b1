using Leasehold.Core.Pools;

namespace Leasehold.Core;

public sealed partial class LockEngine
{
    private readonly List<Waiter> _timedOut = [];

    /// <summary>
    /// Brings the engine to time <paramref name="now"/>: ends every lease and session whose time to live
    /// has run out, serves the queue, and only then fails the waiters whose wait has run out and are still
    /// waiting, so a waiter whose deadline falls on the very moment its resource is freed is granted.
    /// Returns how many things ended.
    /// </summary>
    public int Advance(long now)
    {
        var ended = 0;
        while (_deadlines.TryPeek(out var kind, out var id, out var at) && at <= now)
        {
            _deadlines.Pop();
            // The heap holds each live thing's current deadline only (moved when renewed, removed when it ends); the
            // checks are a guard, never the rule.
            switch (kind)
            {
                case DeadlineKind.Lease when _leases.TryGetValue(id, out var lease) && lease.ExpiresAt == at:
                    End(lease, EndReason.Expired, now);
                    ended++;
                    break;
                case DeadlineKind.Session when _sessions.TryGetValue(id, out var session) && session.ExpiresAt == at:
                    End(session, EndReason.Expired, now);
                    ended++;
                    break;
                case DeadlineKind.Waiter when _waiters.TryGetValue(id, out var waiter) && waiter.Deadline == at:
                    _timedOut.Add(waiter);
                    break;
            }
        }
        if (ended > 0)
        {
            ServeQueue(now);
        }
        if (_timedOut.Count == 0)
        {
            return ended;
        }
        foreach (var waiter in _timedOut)
        {
            if (waiter.QueueNode is not null)
            {
                Dequeue(waiter, DequeueReason.Timeout, now);
                _outcomes.Add(new WaiterOutcome(waiter.Id, ErrorCode.Locked, null));
                ended++;
            }
        }
        _timedOut.Clear();
        ServeQueue(now);
        return ended;
    }
}

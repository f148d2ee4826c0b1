namespace Leasehold.Core;

public sealed partial class LockEngine
{
    /// <summary>
    /// Brings the engine to time <paramref name="now"/>: ends every lease and session whose time to live
    /// has run out and fails every waiter whose wait has, then serves the queue once.
    /// Returns how many things ended.
    /// </summary>
    public int Advance(long now)
    {
        var ended = 0;
        while (_deadlines.TryPeek(out var due, out var at) && at <= now)
        {
            _deadlines.Dequeue();
            switch (due.Kind)
            {
                // Only the entry for the current expiry counts: an extended object is handled at its own time.
                case DeadlineKind.Lease when _leases.TryGetValue(due.Id, out var lease) && lease.ExpiresAt == at:
                    End(lease);
                    ended++;
                    break;
                case DeadlineKind.Session when _sessions.TryGetValue(due.Id, out var session) && session.ExpiresAt == at:
                    End(session);
                    ended++;
                    break;
                case DeadlineKind.Waiter when _waiters.TryGetValue(due.Id, out var waiter) && waiter.Deadline <= now:
                    Dequeue(waiter);
                    _outcomes.Add(new WaiterOutcome(waiter.Id, ErrorCode.Locked, null));
                    ended++;
                    break;
            }
        }
        if (ended > 0)
        {
            ServeQueue(now);
        }
        return ended;
    }
}

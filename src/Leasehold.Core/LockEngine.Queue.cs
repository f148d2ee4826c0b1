namespace Leasehold.Core;

public sealed partial class LockEngine
{
    private Waiter Enqueue(in ClaimRequest claim, Session? session)
    {
        Changes++;
        var waiter = new Waiter
        {
            Id = ++_lastWaiterId,
            Paths = claim.Paths,
            Mode = claim.Mode,
            Limit = claim.Limit,
            LockParents = claim.LockParents,
            LockChildren = claim.LockChildren,
            Owner = claim.Owner,
            Principal = claim.Principal,
            SessionId = claim.SessionId,
            TtlMs = claim.TtlMs,
            Token = claim.Token,
            EnqueuedAt = claim.EnqueuedAt,
            Deadline = claim.Deadline,
            Groups = claim.Groups,
        };
        foreach (var path in waiter.Paths)
        {
            var node = _tree.GetOrCreate(path);
            node.Waiters.Add(waiter);
            LockTree.Count(Layer.Queued, node, waiter, 1);
        }
        waiter.QueueNode = _queue.AddLast(waiter);
        _waiters.Add(waiter.Id, waiter);
        Tally(waiter.Principal).Waiters++;
        session?.WaiterIds.Add(waiter.Id);
        Schedule(DeadlineKind.Waiter, waiter.Id, waiter.Deadline);
        return waiter;
    }

    private void Dequeue(Waiter waiter)
    {
        Changes++;
        // A waiter that leaves may have been blocking younger ones.
        _queueMayMove = true;
        foreach (var path in waiter.Paths)
        {
            var node = _tree.Find(path)!;
            node.Waiters.Remove(waiter);
            LockTree.Count(Layer.Queued, node, waiter, -1);
            _tree.Prune(node);
        }
        _queue.Remove(waiter.QueueNode!);
        waiter.QueueNode = null;
        _waiters.Remove(waiter.Id);
        Untally(waiter.Principal, t => t.Waiters--);
        if (waiter.SessionId != 0 && _sessions.TryGetValue(waiter.SessionId, out var session))
        {
            session.WaiterIds.Remove(waiter.Id);
        }
    }

    /// <summary>
    /// Grants every waiter that can be granted now, oldest first. A waiter is granted only when no holder
    /// blocks it and no older waiter that is still blocked conflicts with it in either direction, so a
    /// younger request never overtakes an older one it conflicts with (no starvation of exclusive
    /// requests behind a stream of shared ones). The blocked older waiters are counted in the
    /// <see cref="Layer.Blocked"/> layer during the pass, which keeps each check O(depth).
    /// </summary>
    private void ServeQueue(long now)
    {
        // Counted before the shortcut: a pass number names the call, so a logged grant is found again on
        // replay even by an engine restored from a snapshot, which does not keep _queueMayMove.
        _pass++;
        if (_queue.Count == 0 || !_queueMayMove)
        {
            _queueMayMove = false;
            return;
        }
        var blocked = _blockedScratch;
        for (var node = _queue.First; node is not null;)
        {
            var next = node.Next;
            var waiter = node.Value;
            var claim = ClaimRequest.From(waiter);
            if (claim.Groups is not null)
            {
                if (ChooseForWaiter(waiter, claim) is { } chosen)
                {
                    Dequeue(waiter);
                    _sessions.TryGetValue(waiter.SessionId, out var poolSession);
                    var granted = Grant(claim with { Paths = chosen }, now, poolSession);
                    _outcomes.Add(new WaiterOutcome(waiter.Id, ErrorCode.None, granted));
                }
                else
                {
                    CountBlocked(waiter, 1);
                    blocked.Add(waiter);
                }
                node = next;
                continue;
            }
            var check = CheckHolders(claim);
            if (check == Check.LimitMismatch)
            {
                Dequeue(waiter);
                _outcomes.Add(new WaiterOutcome(waiter.Id, ErrorCode.LimitMismatch, null));
            }
            else if (check == Check.Free && !ConflictsWith(Layer.Blocked, claim) && DrainedPath(claim) is null)
            {
                Dequeue(waiter);
                _sessions.TryGetValue(waiter.SessionId, out var session);
                var lease = Grant(claim, now, session);
                _outcomes.Add(new WaiterOutcome(waiter.Id, ErrorCode.None, lease));
            }
            else
            {
                CountBlocked(waiter, 1);
                blocked.Add(waiter);
            }
            node = next;
        }
        foreach (var waiter in blocked)
        {
            CountBlocked(waiter, -1);
        }
        blocked.Clear();
        _queueMayMove = false;
    }

    /// <summary>
    /// Does any queued claim touch one of the lease's paths (on it, above it or below it)? If none does,
    /// the lease blocked nobody who waits, directly or through an older waiter, so ending it cannot
    /// change the queue and the pass over it is skipped. O(depth) per path, like every check.
    /// </summary>
    private bool TouchesQueue(Lease lease)
    {
        foreach (var path in lease.Paths)
        {
            var node = _tree.Root;
            foreach (var segment in path.Segments)
            {
                if (!node.Queued.IsEmpty && (node.Queued[ClaimCounts.Index(ClaimCounts.Exact, LockMode.Exclusive)] > 0
                    || node.Queued[ClaimCounts.Index(ClaimCounts.Exact, LockMode.Shared)] > 0))
                {
                    return true;
                }
                node = node.Child(segment);
                if (node is null)
                {
                    break;
                }
            }
            if (node is not null && !node.Queued.IsEmpty)
            {
                return true;
            }
        }
        return false;
    }

    private void CountBlocked(Waiter waiter, int delta)
    {
        foreach (var path in waiter.Paths)
        {
            LockTree.Count(Layer.Blocked, _tree.Find(path)!, waiter, delta);
        }
    }

    /// <summary>Takes a waiter out of the queue (its client went away). False if it is no longer waiting.</summary>
    public bool Cancel(CancelWait command)
    {
        if (!_waiters.TryGetValue(command.WaiterId, out var waiter))
        {
            return false;
        }
        Dequeue(waiter);
        ServeQueue(command.Now);
        return true;
    }

    /// <summary>Fails every waiter with <see cref="ErrorCode.ShuttingDown"/>; returns how many there were.</summary>
    public int DropAllWaiters()
    {
        var count = 0;
        while (_queue.First is { } first)
        {
            Dequeue(first.Value);
            _outcomes.Add(new WaiterOutcome(first.Value.Id, ErrorCode.ShuttingDown, null));
            count++;
        }
        return count;
    }

    public Waiter? GetWaiter(long id) => _waiters.GetValueOrDefault(id);
}

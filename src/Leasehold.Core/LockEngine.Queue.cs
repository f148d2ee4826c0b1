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
            LockTree.AddWaiter(_tree.GetOrCreate(path), waiter);
        }
        waiter.QueueNode = _queue.AddLast(waiter);
        _waiters.Add(waiter.Id, waiter);
        if (waiter.Groups is not null)
        {
            _poolWaiters.Add(waiter.Id, waiter);
        }
        Tally(waiter.Principal).Waiters++;
        session?.WaiterIds.Add(waiter.Id);
        Schedule(waiter);
        EmitQueued(waiter, claim.EnqueuedAt);
        return waiter;
    }

    /// <summary>
    /// Takes a waiter out of the queue. Unless <paramref name="freesOthers"/> is false (the whole queue is
    /// being dropped), the younger waiters it may have held back become candidates of the next pass.
    /// </summary>
    private void Dequeue(Waiter waiter, DequeueReason reason, long now, bool freesOthers = true)
    {
        Changes++;
        EmitDequeued(waiter, reason, now);
        waiter.IndexEpoch++;
        foreach (var path in waiter.Paths)
        {
            LockTree.RemoveWaiter(_tree.Find(path)!, waiter);
        }
        foreach (var path in waiter.Paths)
        {
            if (freesOthers)
            {
                NoteFreed(path, waiter.Id);
            }
            // Null when pruning a path below it (of the same waiter: nested paths) took it already.
            if (_tree.Find(path) is { } node)
            {
                _tree.Prune(node);
            }
        }
        _queue.Remove(waiter.QueueNode!);
        waiter.QueueNode = null;
        _waiters.Remove(waiter.Id);
        _deadlines.Remove(waiter);
        _poolWaiters.Remove(waiter.Id);
        Untally(waiter.Principal, t => t.Waiters--);
        if (waiter.SessionId != 0 && _sessions.TryGetValue(waiter.SessionId, out var session))
        {
            session.WaiterIds.Remove(waiter.Id);
        }
    }

    /// <summary>
    /// Grants every waiter that can be granted now, oldest first, by the queue rule: a waiter is granted
    /// only when no holder blocks it and no older waiter still queued conflicts with it in either direction,
    /// so a younger request never overtakes an older one it conflicts with (no starvation of exclusive
    /// requests behind a stream of shared ones).
    /// <para>
    /// The queue is settled between passes: every waiter is blocked. A waiter can only move when something
    /// that held it back goes away: a lease (when it ends), an older waiter (<see cref="Dequeue"/>), a
    /// drain, or its own candidates changing. Each of those notes the waiters it may free
    /// (<see cref="NoteFreed"/>), and the pass examines only those, oldest first; a waiter granted or
    /// failed in the pass notes the younger ones it held back, which the pass reaches in turn. The result
    /// is the one a walk of the whole queue would give (the randomized model tests compare it with exactly
    /// that walk), at a cost that grows with the waiters examined, not with the queue's length.
    /// </para>
    /// </summary>
    private void ServeQueue(long now)
    {
        // Counted before the shortcut: a pass number names the call, so a logged grant is found again on
        // replay even by an engine restored from a snapshot, which has no candidates pending.
        _pass++;
        if (_freed.Count == 0)
        {
            return;
        }
        while (_freed.TryDequeue(out var waiter, out _))
        {
            waiter.Pending = false;
            if (waiter.QueueNode is null)
            {
                continue;
            }
            WaitersExamined++;
            var claim = ClaimRequest.From(waiter);
            if (claim.Groups is not null)
            {
                if (ChooseForWaiter(waiter, claim) is { } chosen)
                {
                    Dequeue(waiter, DequeueReason.Granted, now);
                    _sessions.TryGetValue(waiter.SessionId, out var poolSession);
                    var granted = Grant(claim with { Paths = chosen }, now, poolSession);
                    _outcomes.Add(new WaiterOutcome(waiter.Id, ErrorCode.None, granted));
                    NoteMismatches(granted);
                }
                continue;
            }
            var check = CheckHolders(claim);
            if (check == Check.LimitMismatch)
            {
                Dequeue(waiter, DequeueReason.LimitMismatch, now);
                _outcomes.Add(new WaiterOutcome(waiter.Id, ErrorCode.LimitMismatch, null));
            }
            else if (check == Check.Free && !HasOlderConflict(claim, waiter.Id) && DrainedPath(claim) is null)
            {
                Dequeue(waiter, DequeueReason.Granted, now);
                _sessions.TryGetValue(waiter.SessionId, out var session);
                var lease = Grant(claim, now, session);
                _outcomes.Add(new WaiterOutcome(waiter.Id, ErrorCode.None, lease));
                NoteMismatches(lease);
            }
        }
    }

    /// <summary>
    /// A grant from the queue fixes the semaphore limit of its paths: exclusive waiters there with another
    /// limit now fail with limit-mismatch, even those an older waiter holds back (the pass checks the limit
    /// before the queue), so they become candidates. They are all younger than the lease's waiter: an
    /// older exclusive waiter on the same path would have kept it from being granted. O(1) unless there are
    /// such waiters.
    /// </summary>
    private void NoteMismatches(Lease lease)
    {
        if (lease.Mode != LockMode.Exclusive)
        {
            return;
        }
        foreach (var path in lease.Paths)
        {
            var node = _tree.Find(path)!;
            if (node.WaitLimits is not { } limits || limits.Count == 0 || (limits.Count == 1 && limits.ContainsKey(lease.Limit)))
            {
                continue;
            }
            foreach (var lockChildren in (ReadOnlySpan<bool>)[false, true])
            {
                if (node.Runs![LockNode.ExactRun(LockMode.Exclusive, lockChildren)] is { } run)
                {
                    foreach (var entry in run.Entries)
                    {
                        if (entry.IsLive && entry.Waiter.Limit != lease.Limit)
                        {
                            Consider(entry.Waiter);
                        }
                    }
                }
            }
        }
    }

    /// <summary>For tests: how many waiters queue passes examined since the engine started.</summary>
    internal long WaitersExamined { get; private set; }

    /// <summary>Would a waiter older than <paramref name="before"/> overtake-conflict with the claim on any of its paths?</summary>
    private bool HasOlderConflict(in ClaimRequest claim, long before)
    {
        foreach (var path in claim.Paths)
        {
            if (_tree.HasOlderConflict(path, claim.Mode, claim.LockParents, claim.LockChildren, before))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Something that may have held waiters back on <paramref name="path"/> went away (a lease, a waiter, a
    /// drain): the waiters it may free become candidates of the next pass. Those are the waiters claiming the
    /// path, an ancestor or a path below it (whether the thing that went away concerned them is for the pass
    /// to decide), and among them only the heads of each path's own line: the oldest waiter of the path, or
    /// the shared waiters older than its oldest exclusive one. Any other waiter of the path has an older one
    /// there that conflicts with it and is still queued, so it cannot move; when that one leaves, it notes
    /// this one in turn. Only waiters younger than <paramref name="after"/> are noted (a waiter leaving frees
    /// no older one; 0 for a lease or a drain). O(depth + heads noted), plus the nodes below the path that
    /// have waiters.
    /// </summary>
    private void NoteFreed(ResourcePath path, long after)
    {
        var node = _tree.Root;
        for (var depth = 0; ; depth++)
        {
            if (node.Queued.IsEmpty)
            {
                // Nothing queued here or below.
                return;
            }
            NoteHeads(node, after);
            if (depth == path.Depth)
            {
                break;
            }
            node = node.Child(path.Segments[depth]);
            if (node is null)
            {
                return;
            }
        }
        NoteHeadsBelow(node, after);
    }

    /// <summary>
    /// Notes the heads of the lines of every path strictly below <paramref name="node"/>: by walking the
    /// children that have something queued, or, when the node has more children than claims are queued below
    /// it (many held or declared paths, few waiters), by reading the waiters of its runs of claims below.
    /// </summary>
    private void NoteHeadsBelow(LockNode node, long after)
    {
        var queuedBelow = node.Queued[ClaimCounts.Index(ClaimCounts.Below, LockMode.Exclusive)]
                          + node.Queued[ClaimCounts.Index(ClaimCounts.Below, LockMode.Shared)];
        if (node.Children is null || queuedBelow == 0)
        {
            return;
        }
        if (node.Children.Count > queuedBelow)
        {
            for (var slot = LockNode.BelowRun(LockMode.Exclusive, false); slot <= LockNode.BelowRun(LockMode.Shared, true); slot++)
            {
                if (node.Runs![slot] is not { Live: > 0 } run)
                {
                    continue;
                }
                var entries = run.Entries;
                for (var i = run.FirstAbove(after); i < entries.Length; i++)
                {
                    if (entries[i].IsLive)
                    {
                        NoteIfHeadBelow(entries[i].Waiter, node);
                    }
                }
            }
            return;
        }
        // In the dictionary's order, which a restored engine does not share: harmless, since what is noted
        // is a set, and the pass takes it in id order.
        foreach (var child in node.Children.Values)
        {
            if (!child.Queued.IsEmpty)
            {
                NoteHeads(child, after);
                NoteHeadsBelow(child, after);
            }
        }
    }

    /// <summary>Notes <paramref name="waiter"/> if it heads the line of one of its paths strictly below <paramref name="ancestor"/>.</summary>
    private void NoteIfHeadBelow(Waiter waiter, LockNode ancestor)
    {
        foreach (var path in waiter.Paths)
        {
            var node = _tree.Find(path)!;
            var below = false;
            for (var up = node.Parent; up is not null && !below; up = up.Parent)
            {
                below = up == ancestor;
            }
            if (below && IsHead(node, waiter))
            {
                Consider(waiter);
                return;
            }
        }
    }

    /// <summary>
    /// Does the waiter head the line of <paramref name="node"/>'s path: no older waiter there it conflicts
    /// with (for an exclusive one: none at all; for a shared one: no exclusive one)?
    /// </summary>
    private static bool IsHead(LockNode node, Waiter waiter)
    {
        var oldestExclusive = Math.Min(node.MinId(LockNode.ExactRun(LockMode.Exclusive, false)), node.MinId(LockNode.ExactRun(LockMode.Exclusive, true)));
        if (waiter.Mode == LockMode.Shared)
        {
            return oldestExclusive > waiter.Id;
        }
        var oldestShared = Math.Min(node.MinId(LockNode.ExactRun(LockMode.Shared, false)), node.MinId(LockNode.ExactRun(LockMode.Shared, true)));
        return Math.Min(oldestExclusive, oldestShared) == waiter.Id;
    }

    /// <summary>Notes the heads of the line of waiters claiming exactly <paramref name="node"/>'s path, those younger than <paramref name="after"/>.</summary>
    private void NoteHeads(LockNode node, long after)
    {
        if (node.Runs is not { } runs)
        {
            return;
        }
        var exclusiveFalse = runs[LockNode.ExactRun(LockMode.Exclusive, false)];
        var exclusiveTrue = runs[LockNode.ExactRun(LockMode.Exclusive, true)];
        var oldestExclusive = Oldest(exclusiveFalse, exclusiveTrue);
        var sharedFalse = runs[LockNode.ExactRun(LockMode.Shared, false)];
        var sharedTrue = runs[LockNode.ExactRun(LockMode.Shared, true)];
        var firstExclusive = oldestExclusive?.Id ?? long.MaxValue;
        if (firstExclusive < Math.Min(sharedFalse?.MinId ?? long.MaxValue, sharedTrue?.MinId ?? long.MaxValue))
        {
            // An exclusive waiter is the oldest: it alone heads the line.
            if (firstExclusive > after)
            {
                Consider(oldestExclusive!);
            }
            return;
        }
        // Shared waiters older than the first exclusive one coexist in the line's head.
        NoteShared(sharedFalse, after, firstExclusive);
        NoteShared(sharedTrue, after, firstExclusive);
    }

    private void NoteShared(WaiterRun? run, long after, long before)
    {
        if (run is not { Live: > 0 })
        {
            return;
        }
        var entries = run.Entries;
        for (var i = run.FirstAbove(after); i < entries.Length && entries[i].Waiter.Id < before; i++)
        {
            if (entries[i].IsLive)
            {
                Consider(entries[i].Waiter);
            }
        }
    }

    private static Waiter? Oldest(WaiterRun? a, WaiterRun? b)
    {
        var first = a is not null && a.Entries.Length > 0 ? a.Entries[0].Waiter : null;
        var second = b is not null && b.Entries.Length > 0 ? b.Entries[0].Waiter : null;
        return first is null ? second : second is null || first.Id < second.Id ? first : second;
    }

    /// <summary>Makes a waiter a candidate of the next queue pass (once).</summary>
    private void Consider(Waiter waiter)
    {
        if (!waiter.Pending)
        {
            waiter.Pending = true;
            _freed.Enqueue(waiter, waiter.Id);
        }
    }

    private void ForgetCandidates()
    {
        while (_freed.TryDequeue(out var waiter, out _))
        {
            waiter.Pending = false;
        }
    }

    /// <summary>Takes a waiter out of the queue (its client went away). False if it is no longer waiting.</summary>
    public bool Cancel(CancelWait command)
    {
        if (!_waiters.TryGetValue(command.WaiterId, out var waiter))
        {
            return false;
        }
        Dequeue(waiter, DequeueReason.Cancelled, command.Now);
        ServeQueue(command.Now);
        return true;
    }

    /// <summary>Fails every waiter with <see cref="ErrorCode.ShuttingDown"/> at <paramref name="now"/>; returns how many there were.</summary>
    public int DropAllWaiters(long now)
    {
        var count = 0;
        ForgetCandidates();
        while (_queue.First is { } first)
        {
            Dequeue(first.Value, DequeueReason.ShuttingDown, now, freesOthers: false);
            _outcomes.Add(new WaiterOutcome(first.Value.Id, ErrorCode.ShuttingDown, null));
            count++;
        }
        return count;
    }

    public Waiter? GetWaiter(long id) => _waiters.GetValueOrDefault(id);
}

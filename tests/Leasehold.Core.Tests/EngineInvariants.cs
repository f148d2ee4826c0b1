namespace Leasehold.Core.Tests;

/// <summary>
/// Invariants checked directly on the engine's public state, with the reference model's brute-force rules
/// (no engine internals). Each returns null when it holds, or a description of the violation.
/// </summary>
internal static class EngineInvariants
{
    public static MClaim ToClaim(Claim claim) => new([.. claim.Paths.Select(p => p.Value)], claim.Mode, claim.Limit, claim.LockParents, claim.LockChildren);

    /// <summary>No lease is blocked by an earlier-granted one under the holder rule; semaphores stay within their limit.</summary>
    public static string? NoConflictingHolders(IReadOnlyList<Lease> leasesByFence)
    {
        for (var j = 0; j < leasesByFence.Count; j++)
        {
            var later = ToClaim(leasesByFence[j]);
            for (var i = 0; i < j; i++)
            {
                var earlier = ToClaim(leasesByFence[i]);
                foreach (var p in earlier.Paths)
                {
                    foreach (var q in later.Paths)
                    {
                        var semaphore = p == q && earlier.Mode == LockMode.Exclusive && later.Mode == LockMode.Exclusive;
                        if (!semaphore && ReferenceModel.Blocks(earlier, p, later, q))
                        {
                            return $"lease {leasesByFence[j].Id} on {q} is blocked by earlier lease {leasesByFence[i].Id} on {p}";
                        }
                    }
                }
            }
        }
        var byPath = leasesByFence
            .Where(l => l.Mode == LockMode.Exclusive)
            .SelectMany(l => l.Paths.Select(p => (Path: p.Value, Lease: l)))
            .GroupBy(x => x.Path, StringComparer.Ordinal);
        foreach (var group in byPath)
        {
            var limits = group.Select(x => x.Lease.Limit).Distinct().ToList();
            if (limits.Count != 1)
            {
                return $"{group.Key} has exclusive holders with limits {string.Join(",", limits)}";
            }
            if (group.Count() > limits[0])
            {
                return $"{group.Key} has {group.Count()} exclusive holders, limit {limits[0]}";
            }
        }
        return null;
    }

    /// <summary>Lease ids and fencing tokens both follow grant order, strictly increasing; LastFence is the newest.</summary>
    public static string? FencesFollowGrantOrder(IReadOnlyList<Lease> leasesByFence, long lastFence)
    {
        for (var i = 1; i < leasesByFence.Count; i++)
        {
            if (leasesByFence[i].Fence <= leasesByFence[i - 1].Fence || leasesByFence[i].Id <= leasesByFence[i - 1].Id)
            {
                return $"leases {leasesByFence[i - 1].Id} (fence {leasesByFence[i - 1].Fence}) and {leasesByFence[i].Id} (fence {leasesByFence[i].Fence}) are out of order";
            }
        }
        return leasesByFence.Count > 0 && leasesByFence[^1].Fence > lastFence
            ? $"a lease has fence {leasesByFence[^1].Fence} above LastFence {lastFence}"
            : null;
    }

    /// <summary>
    /// The queue is in arrival order and settled: every waiter is blocked by a holder or conflicts with an
    /// older waiter (otherwise it should have been granted, or failed with LimitMismatch).
    /// </summary>
    public static string? QueueSettledInArrivalOrder(IReadOnlyList<Waiter> queue, IReadOnlyCollection<Lease> leases, Func<MClaim, bool>? drained = null)
    {
        var holders = leases.Select(ToClaim).ToList();
        for (var i = 0; i < queue.Count; i++)
        {
            if (i > 0 && queue[i].Id <= queue[i - 1].Id)
            {
                return $"waiter {queue[i].Id} is queued after waiter {queue[i - 1].Id}";
            }
            var claim = ToClaim(queue[i]);
            var verdict = ReferenceModel.CheckHolders(holders, claim);
            if (verdict == ReferenceModel.Verdict.LimitMismatch)
            {
                return $"waiter {queue[i].Id} still waits although its limit disagrees with the holders";
            }
            if (verdict == ReferenceModel.Verdict.Free && !(drained?.Invoke(claim) ?? false) && !queue.Take(i).Any(o => ReferenceModel.QueueConflict(ToClaim(o), claim)))
            {
                return $"waiter {queue[i].Id} could be granted but still waits";
            }
        }
        return null;
    }

    /// <summary>Leases and waiters of a session exist only while it does, and its lease count is right.</summary>
    public static string? SessionsOwnTheirLeases(LockEngine engine)
    {
        foreach (var lease in engine.Leases)
        {
            if (lease.SessionId != 0 && engine.GetSession(lease.SessionId) is null)
            {
                return $"lease {lease.Id} outlived its session {lease.SessionId}";
            }
        }
        foreach (var waiter in engine.Queue)
        {
            if (waiter.SessionId != 0 && engine.GetSession(waiter.SessionId) is null)
            {
                return $"waiter {waiter.Id} outlived its session {waiter.SessionId}";
            }
        }
        foreach (var session in engine.Sessions)
        {
            var count = engine.Leases.Count(l => l.SessionId == session.Id);
            if (session.LeaseCount != count)
            {
                return $"session {session.Id} counts {session.LeaseCount} leases, holds {count}";
            }
        }
        return null;
    }

    /// <summary>The index by token hash lists exactly the live leases, each under its own token.</summary>
    public static string? TokenIndexMatchesLeases(LockEngine engine)
    {
        var byToken = engine.Leases.GroupBy(l => l.Token).ToList();
        foreach (var group in byToken)
        {
            var indexed = engine.LeasesWithToken(group.Key).Select(l => l.Id).Order().ToList();
            var live = group.Select(l => l.Id).Order().ToList();
            if (!indexed.SequenceEqual(live))
            {
                return $"token {group.Key} indexes leases [{string.Join(",", indexed)}], the live ones with it are [{string.Join(",", live)}]";
            }
        }
        return engine.DistinctLeaseTokens != byToken.Count
            ? $"the token index has {engine.DistinctLeaseTokens} tokens, the live leases {byToken.Count}"
            : null;
    }

    /// <summary>A host that ticks at NextDeadline never misses a deadline.</summary>
    public static string? NextDeadlineNotLate(LockEngine engine)
    {
        var live = engine.Leases.Where(l => l.ExpiresAt != long.MaxValue).Select(l => l.ExpiresAt)
            .Concat(engine.Sessions.Select(s => s.ExpiresAt))
            .Concat(engine.Queue.Select(w => w.Deadline))
            .ToList();
        if (live.Count == 0)
        {
            return null;
        }
        var next = engine.NextDeadline;
        return next is null || next > live.Min()
            ? $"NextDeadline {next} is later than the earliest deadline {live.Min()}"
            : null;
    }
}

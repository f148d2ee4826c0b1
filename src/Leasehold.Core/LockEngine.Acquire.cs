using Leasehold.Core.Pools;

namespace Leasehold.Core;

public sealed partial class LockEngine
{
    private enum Check : byte
    {
        Free,
        Blocked,
        LimitMismatch,
    }

    /// <summary>Grants every path at once, queues the request, or says why not.</summary>
    public AcquireResult Acquire(AcquireLease command)
    {
        if (command.Groups is not null)
        {
            return AcquireFromPools(command);
        }
        var error = Validate(command, out var limit);
        if (error is not null)
        {
            return AcquireResult.Fail(ErrorCode.InvalidArgument, error);
        }
        Session? session = null;
        if (command.SessionId != 0 && !_sessions.TryGetValue(command.SessionId, out session))
        {
            return AcquireResult.Fail(ErrorCode.NotFound, $"session {command.SessionId} does not exist (closed or expired)");
        }

        var claim = new ClaimRequest(command.Paths, command.Mode, limit, command.LockParents, command.LockChildren,
            command.Owner, command.SessionId, command.TtlMs, command.Token, command.Now, command.Now + command.WaitMs,
            Principal: command.Principal);
        var drained = DrainedPath(claim);
        switch (CheckHolders(claim))
        {
            case Check.LimitMismatch:
                return AcquireResult.Fail(ErrorCode.LimitMismatch, LimitMismatchDetail(claim));
            case Check.Free when drained is null && !ConflictsWith(Layer.Queued, claim):
                return new AcquireResult(ErrorCode.None, Grant(claim, command.Now, session), null);
        }
        if (command.WaitMs == 0)
        {
            // Draining first: even once the holders leave, nothing is granted there until the drain ends.
            return drained is { } drain
                ? AcquireResult.Fail(ErrorCode.Draining, DrainingDetail(drain))
                : AcquireResult.Fail(ErrorCode.Locked, "held by another lease or by an earlier waiter");
        }
        var waiter = Enqueue(claim, session);
        return new AcquireResult(ErrorCode.None, null, waiter);
    }

    private string? Validate(AcquireLease command, out int limit)
    {
        limit = command.Mode == LockMode.Exclusive ? command.Limit ?? 1 : 0;
        var paths = command.Paths;
        if (paths.Length == 0)
        {
            return "at least one path is required";
        }
        if (paths.Length > Limits.MaxPathsPerRequest)
        {
            return $"at most {Limits.MaxPathsPerRequest} paths per request";
        }
        for (var i = 1; i < paths.Length; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (paths[i].Equals(paths[j]))
                {
                    return $"path {paths[i]} is given twice";
                }
            }
        }
        if (command.Mode is not (LockMode.Exclusive or LockMode.Shared))
        {
            return "mode is exclusive or shared";
        }
        if (command.Limit is { } given)
        {
            if (command.Mode == LockMode.Shared)
            {
                return "limit makes a semaphore of exclusive holders; shared holders are not limited";
            }
            if (given < 1 || given > Limits.MaxLimit)
            {
                return $"limit is between 1 and {Limits.MaxLimit}";
            }
        }
        if (command.TtlMs < 0 || command.TtlMs > Limits.MaxTtlMs)
        {
            return $"ttl is between 0.001 and {Limits.MaxTtlMs / 1000} seconds";
        }
        if (command.WaitMs < 0 || command.WaitMs > Limits.MaxWaitMs)
        {
            return $"wait is between 0 and {Limits.MaxWaitMs / 1000} seconds";
        }
        return CheckOwner(command.Owner) ?? CheckName(command.Principal, "principal");
    }

    /// <summary>May the claim be granted as far as current holders are concerned?</summary>
    private Check CheckHolders(in ClaimRequest claim)
    {
        var blocked = false;
        foreach (var path in claim.Paths)
        {
            var same = CheckSamePath(path, claim);
            if (same == Check.LimitMismatch)
            {
                return same;
            }
            blocked |= same == Check.Blocked || _tree.IsCoveredBy(Layer.Held, path, claim.Mode, samePath: false);
        }
        return blocked ? Check.Blocked : Check.Free;
    }

    /// <summary>Holders of the very same path: shared ones coexist, exclusive ones fill the semaphore's slots.</summary>
    private Check CheckSamePath(ResourcePath path, in ClaimRequest claim)
    {
        var node = _tree.Find(path);
        if (node is null)
        {
            return Check.Free;
        }
        var exclusive = node.Held[ClaimCounts.Index(ClaimCounts.Exact, LockMode.Exclusive)];
        var shared = node.Held[ClaimCounts.Index(ClaimCounts.Exact, LockMode.Shared)];
        if (claim.Mode == LockMode.Shared)
        {
            return exclusive > 0 ? Check.Blocked : Check.Free;
        }
        if (shared > 0)
        {
            return Check.Blocked;
        }
        if (exclusive == 0)
        {
            return Check.Free;
        }
        if (node.Holders.First.Limit != claim.Limit)
        {
            return Check.LimitMismatch;
        }
        return exclusive >= claim.Limit ? Check.Blocked : Check.Free;
    }

    private string LimitMismatchDetail(in ClaimRequest claim)
    {
        foreach (var path in claim.Paths)
        {
            if (CheckSamePath(path, claim) == Check.LimitMismatch)
            {
                var held = _tree.Find(path)!.Holders.First.Limit;
                return $"{path} is held with limit {held}; the request says {claim.Limit}";
            }
        }
        return "limit disagrees with the current holders";
    }

    /// <summary>
    /// Would the claim overtake or be overtaken by a claim counted in a waiter layer? Between waiters the
    /// rule is symmetric: neither may be granted ahead of an older one it conflicts with in either direction.
    /// </summary>
    private bool ConflictsWith(Layer layer, in ClaimRequest claim)
    {
        foreach (var path in claim.Paths)
        {
            if (_tree.IsCoveredBy(layer, path, claim.Mode, samePath: true)
                || _tree.Covers(layer, path, claim.Mode, claim.LockParents, claim.LockChildren))
            {
                return true;
            }
        }
        return false;
    }

    private Lease Grant(in ClaimRequest claim, long now, Session? session)
    {
        Changes++;
        var lease = new Lease
        {
            Id = ++_lastLeaseId,
            Token = claim.Token,
            Fence = ++LastFence,
            Paths = claim.Paths,
            Mode = claim.Mode,
            Limit = claim.Limit,
            LockParents = claim.LockParents,
            LockChildren = claim.LockChildren,
            Owner = claim.Owner,
            Principal = claim.Principal,
            SessionId = claim.SessionId,
            TtlMs = claim.TtlMs,
            AcquiredAt = now,
            WaitedMs = now - claim.EnqueuedAt,
            Groups = claim.Groups,
        };
        foreach (var path in claim.Paths)
        {
            var node = _tree.GetOrCreate(path);
            node.Holders.Add(lease);
            LockTree.Count(Layer.Held, node, lease.Mode, lease.LockParents, lease.LockChildren, 1);
        }
        _leases.Add(lease.Id, lease);
        IndexToken(lease);
        Tally(lease.Principal).Leases++;
        session?.LeaseIds.Add(lease.Id);
        if (lease.TtlMs > 0)
        {
            lease.ExpiresAt = now + lease.TtlMs;
            Schedule(lease);
        }
        EmitGranted(lease, now);
        return lease;
    }

    /// <summary>Extends a lease's time to live from now.</summary>
    public OperationResult<Lease> Renew(RenewLease command)
    {
        var found = FindLease(command.LeaseId, command.Token);
        if (found.Error != ErrorCode.None)
        {
            return found;
        }
        if (command.TtlMs < 0 || command.TtlMs > Limits.MaxTtlMs)
        {
            return OperationResult<Lease>.Fail(ErrorCode.InvalidArgument, $"ttl is between 0.001 and {Limits.MaxTtlMs / 1000} seconds");
        }
        Changes++;
        Extend(found.Value!, command.TtlMs, command.Now);
        EmitRenewed(found.Value!, command.Now);
        return found;
    }

    /// <summary>Restarts a lease's ttl from <paramref name="now"/>, with <paramref name="ttlMs"/> as its new ttl unless that is 0.</summary>
    private void Extend(Lease lease, long ttlMs, long now)
    {
        if (ttlMs > 0)
        {
            lease.TtlMs = ttlMs;
        }
        if (lease.TtlMs > 0)
        {
            lease.ExpiresAt = now + lease.TtlMs;
            Schedule(lease);
        }
    }

    /// <summary>Releases a lease and serves the waiters it was blocking.</summary>
    public OperationResult<Lease> Release(ReleaseLease command)
    {
        var found = FindLease(command.LeaseId, command.Token);
        if (found.Error == ErrorCode.None)
        {
            End(found.Value!, EndReason.Released, command.Now);
            ServeQueue(command.Now);
        }
        return found;
    }

    private OperationResult<Lease> FindLease(long id, UInt128 token)
    {
        if (!_leases.TryGetValue(id, out var lease))
        {
            return OperationResult<Lease>.Fail(ErrorCode.NotFound, $"lease {id} is not held (never granted, released, or expired)");
        }
        return lease.Token == token
            ? new OperationResult<Lease>(ErrorCode.None, lease)
            : OperationResult<Lease>.Fail(ErrorCode.InvalidToken, $"the token does not match lease {id}");
    }

    /// <summary>Removes a lease from the tree without serving the queue; callers serve it once after all removals.</summary>
    /// <param name="lease">The lease to end.</param>
    /// <param name="reason">Why it ends, for the history.</param>
    /// <param name="now">When.</param>
    /// <param name="endedBy">The administrator who ended it (revoked it or ended its session), or null.</param>
    private void End(Lease lease, EndReason reason, long now, string? endedBy = null)
    {
        Changes++;
        Record(lease, reason, now, endedBy);
        EmitReleased(lease, reason, now, endedBy);
        if (TrackEnded)
        {
            _ended.Add(new Ended(EndedKind.Lease, lease.Id, reason));
        }
        lease.Ended = true;
        foreach (var path in lease.Paths)
        {
            if (_queue.Count > 0)
            {
                // The waiters this lease may have held back become candidates of the next pass.
                NoteFreed(path, 0);
            }
            var node = _tree.Find(path)!;
            node.Holders.Remove();
            if (node.Resource is { } resource)
            {
                resource.ReleasedSeq = ++_lastReleaseSeq;
            }
            LockTree.Count(Layer.Held, node, lease, -1);
            _tree.Prune(node);
        }
        _leases.Remove(lease.Id);
        _deadlines.Remove(lease);
        UnindexToken(lease);
        Untally(lease.Principal, t => t.Leases--);
        if (lease.SessionId != 0 && _sessions.TryGetValue(lease.SessionId, out var session))
        {
            session.LeaseIds.Remove(lease.Id);
        }
    }
}

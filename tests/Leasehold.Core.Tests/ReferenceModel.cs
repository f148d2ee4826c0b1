namespace Leasehold.Core.Tests;

/// <summary>
/// An obviously correct model of the engine rules (docs/semantics.md), written without the engine's tree or
/// counters: a plain list of holders in grant order, a plain FIFO list of waiters, and every decision made
/// by scanning all of them. Paths are plain strings; only enums are shared with the engine.
/// </summary>
internal sealed class ReferenceModel
{
    public const long MaxTtlMs = 366L * 24 * 3600 * 1000;
    public const long MaxWaitMs = 24L * 3600 * 1000;
    public const int MaxLimit = 1_000_000;
    public const int MaxPaths = 64;
    public const int MaxOwner = 256;
    public const long MinSessionTtlMs = 1000;
    public const long MaxSessionTtlMs = 24L * 3600 * 1000;

    private long _lastLeaseId;
    private long _lastWaiterId;
    private long _lastSessionId;

    /// <summary>Held leases in grant order.</summary>
    public List<MLease> Holders { get; } = [];

    /// <summary>Waiters in arrival order.</summary>
    public List<MWaiter> Waiters { get; } = [];

    public List<MSession> Sessions { get; } = [];

    /// <summary>Drained prefixes (canonical strings).</summary>
    public List<string> Drained { get; } = [];

    /// <summary>Waiter outcomes since the last drain: (waiter id, error, granted lease id or 0).</summary>
    public List<(long WaiterId, ErrorCode Error, long LeaseId)> Outcomes { get; } = [];

    public long LastFence { get; private set; }

    public long LastLeaseId => _lastLeaseId;

    public long LastWaiterId => _lastWaiterId;

    public long LastSessionId => _lastSessionId;

    // ---- The rules, on plain data ----

    /// <summary>Is <paramref name="ancestor"/> a strict ancestor of <paramref name="path"/>? Paths are canonical strings.</summary>
    public static bool IsStrictAncestor(string ancestor, string path)
        => ancestor != path
           && (ancestor == "/" || path.StartsWith(ancestor + "/", StringComparison.Ordinal));

    public static bool ModesConflict(LockMode a, LockMode b) => a == LockMode.Exclusive || b == LockMode.Exclusive;

    /// <summary>The holder rule: does holder <paramref name="h"/> on <paramref name="p"/> block new <paramref name="r"/> on <paramref name="q"/>? Only h's flags count.</summary>
    public static bool Blocks(MClaim h, string p, MClaim r, string q)
        => ModesConflict(h.Mode, r.Mode)
           && (p == q
               || (IsStrictAncestor(q, p) && h.LockParents)
               || (IsStrictAncestor(p, q) && h.LockChildren));

    public enum Verdict
    {
        Free,
        Blocked,
        LimitMismatch,
    }

    /// <summary>May <paramref name="r"/> be granted as far as <paramref name="holders"/> go (semaphores included)?</summary>
    public static Verdict CheckHolders(IEnumerable<MClaim> holders, MClaim r)
    {
        var all = holders.ToList();
        if (r.Mode == LockMode.Exclusive)
        {
            foreach (var q in r.Paths)
            {
                if (all.Any(h => h.Mode == LockMode.Exclusive && h.Paths.Contains(q) && h.Limit != r.Limit))
                {
                    return Verdict.LimitMismatch;
                }
            }
        }
        foreach (var q in r.Paths)
        {
            foreach (var h in all)
            {
                foreach (var p in h.Paths)
                {
                    var semaphoreSlot = p == q && h.Mode == LockMode.Exclusive && r.Mode == LockMode.Exclusive;
                    if (!semaphoreSlot && Blocks(h, p, r, q))
                    {
                        return Verdict.Blocked;
                    }
                }
            }
            if (r.Mode == LockMode.Exclusive
                && all.Count(h => h.Mode == LockMode.Exclusive && h.Paths.Contains(q)) >= r.Limit)
            {
                return Verdict.Blocked;
            }
        }
        return Verdict.Free;
    }

    /// <summary>Queue rule: symmetric, either claim as a holder would block the other (semaphores conflict too).</summary>
    public static bool QueueConflict(MClaim a, MClaim b)
    {
        foreach (var p in a.Paths)
        {
            foreach (var q in b.Paths)
            {
                if (Blocks(a, p, b, q) || Blocks(b, q, a, p))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>The drain rule: a claim may not be granted on a path at or under a drained prefix, nor above one when it locks its children.</summary>
    public bool IsDrained(MClaim claim)
        => claim.Paths.Any(p => Drained.Any(d => d == p || IsStrictAncestor(d, p) || (claim.LockChildren && IsStrictAncestor(p, d))));

    /// <summary>What one principal has: counted by scanning everything.</summary>
    public (int Leases, int Sessions, int Waiters) CountsOf(string? principal)
        => (Holders.Count(l => l.Principal == principal), Sessions.Count(s => s.Principal == principal), Waiters.Count(w => w.Principal == principal));

    // ---- Commands ----

    public (ErrorCode Error, long LeaseId, long WaiterId) Acquire(
        long now, string[] paths, LockMode mode, int? limit, bool lockParents, bool lockChildren,
        long ttlMs, long waitMs, long sessionId, string? owner, UInt128 token, string? principal = null)
    {
        var invalid = paths.Length == 0
                      || paths.Length > MaxPaths
                      || paths.Distinct(StringComparer.Ordinal).Count() != paths.Length
                      || mode is not (LockMode.Exclusive or LockMode.Shared)
                      || (limit is not null && (mode == LockMode.Shared || limit < 1 || limit > MaxLimit))
                      || ttlMs < 0 || ttlMs > MaxTtlMs
                      || waitMs < 0 || waitMs > MaxWaitMs
                      || (owner is not null && owner.Length > MaxOwner);
        if (invalid)
        {
            return (ErrorCode.InvalidArgument, 0, 0);
        }
        if (sessionId != 0 && FindSession(sessionId) is null)
        {
            return (ErrorCode.NotFound, 0, 0);
        }
        var claim = new MClaim(paths, mode, mode == LockMode.Exclusive ? limit ?? 1 : 0, lockParents, lockChildren);
        var verdict = CheckHolders(Holders.Select(h => h.Claim), claim);
        if (verdict == Verdict.LimitMismatch)
        {
            return (ErrorCode.LimitMismatch, 0, 0);
        }
        var drained = IsDrained(claim);
        if (verdict == Verdict.Free && !drained && !Waiters.Any(w => QueueConflict(w.Claim, claim)))
        {
            return (ErrorCode.None, Grant(claim, token, sessionId, ttlMs, now, now, principal).Id, 0);
        }
        if (waitMs == 0)
        {
            return (drained ? ErrorCode.Draining : ErrorCode.Locked, 0, 0);
        }
        var waiter = new MWaiter(++_lastWaiterId, token, claim, sessionId, ttlMs, now, now + waitMs) { Principal = principal };
        Waiters.Add(waiter);
        return (ErrorCode.None, 0, waiter.Id);
    }

    private MLease Grant(MClaim claim, UInt128 token, long sessionId, long ttlMs, long enqueuedAt, long now, string? principal)
    {
        var lease = new MLease(++_lastLeaseId, token, claim, sessionId, ++LastFence, now, now - enqueuedAt)
        {
            Principal = principal,
            TtlMs = ttlMs,
            ExpiresAt = ttlMs > 0 ? now + ttlMs : long.MaxValue,
        };
        Holders.Add(lease);
        return lease;
    }

    public ErrorCode Release(long now, long leaseId, UInt128 token)
    {
        var lease = Holders.Find(l => l.Id == leaseId);
        if (lease is null)
        {
            return ErrorCode.NotFound;
        }
        if (lease.Token != token)
        {
            return ErrorCode.InvalidToken;
        }
        Holders.Remove(lease);
        Serve(now);
        return ErrorCode.None;
    }

    public (ErrorCode Error, long ExpiresAt) Renew(long now, long leaseId, UInt128 token, long ttlMs)
    {
        var lease = Holders.Find(l => l.Id == leaseId);
        if (lease is null)
        {
            return (ErrorCode.NotFound, 0);
        }
        if (lease.Token != token)
        {
            return (ErrorCode.InvalidToken, 0);
        }
        if (ttlMs < 0 || ttlMs > MaxTtlMs)
        {
            return (ErrorCode.InvalidArgument, 0);
        }
        if (ttlMs > 0)
        {
            lease.TtlMs = ttlMs;
        }
        if (lease.TtlMs > 0)
        {
            lease.ExpiresAt = now + lease.TtlMs;
        }
        return (ErrorCode.None, lease.ExpiresAt);
    }

    public bool Cancel(long now, long waiterId)
    {
        var waiter = Waiters.Find(w => w.Id == waiterId);
        if (waiter is null)
        {
            return false;
        }
        Waiters.Remove(waiter);
        Serve(now);
        return true;
    }

    public (ErrorCode Error, long SessionId) Open(long now, long ttlMs, string? owner, UInt128 token, string? principal = null)
    {
        if (ttlMs < MinSessionTtlMs || ttlMs > MaxSessionTtlMs || (owner is not null && owner.Length > MaxOwner))
        {
            return (ErrorCode.InvalidArgument, 0);
        }
        var session = new MSession(++_lastSessionId, token, ttlMs) { ExpiresAt = now + ttlMs, Principal = principal };
        Sessions.Add(session);
        return (ErrorCode.None, session.Id);
    }

    public (ErrorCode Error, long ExpiresAt) KeepAlive(long now, long sessionId, UInt128 token)
    {
        var session = FindSession(sessionId);
        if (session is null)
        {
            return (ErrorCode.NotFound, 0);
        }
        if (session.Token != token)
        {
            return (ErrorCode.InvalidToken, 0);
        }
        session.ExpiresAt = now + session.TtlMs;
        return (ErrorCode.None, session.ExpiresAt);
    }

    public ErrorCode Close(long now, long sessionId, UInt128 token)
    {
        var session = FindSession(sessionId);
        if (session is null)
        {
            return ErrorCode.NotFound;
        }
        if (session.Token != token)
        {
            return ErrorCode.InvalidToken;
        }
        EndSession(session);
        Serve(now);
        return ErrorCode.None;
    }

    /// <summary>
    /// Brings the model to <paramref name="now"/>, in three stages:
    /// <list type="number">
    /// <item>Everything due by now is taken in order of its current deadline; at the same millisecond
    /// leases before sessions before waiters, lower ids first. A lease or session ends right away (a
    /// session takes its leases and its waiters, which fail with SessionEnded; a lease already gone with
    /// its session is not counted again). A waiter whose wait has run out is only noted.</item>
    /// <item>If anything ended, the queue is served once.</item>
    /// <item>Every noted waiter that is still waiting fails with Locked, in the order noted; then the
    /// queue is served once more. So a waiter freed in this very Advance is granted, however late.</item>
    /// </list>
    /// Returns how many leases and sessions ended plus how many waiters failed with Locked.
    /// </summary>
    public int Advance(long now)
    {
        const int lease = 0, session = 1, waiter = 2;
        var due = new List<(long At, int Kind, long Id)>();
        due.AddRange(Holders.Where(l => l.ExpiresAt <= now).Select(l => (l.ExpiresAt, lease, l.Id)));
        due.AddRange(Sessions.Where(s => s.ExpiresAt <= now).Select(s => (s.ExpiresAt, session, s.Id)));
        due.AddRange(Waiters.Where(w => w.Deadline <= now).Select(w => (w.Deadline, waiter, w.Id)));
        var ended = 0;
        var timedOut = new List<long>();
        foreach (var (_, kind, id) in due.OrderBy(d => d.At).ThenBy(d => d.Kind).ThenBy(d => d.Id))
        {
            switch (kind)
            {
                case lease when Holders.Find(l => l.Id == id) is { } l:
                    Holders.Remove(l);
                    ended++;
                    break;
                case session when FindSession(id) is { } s:
                    EndSession(s);
                    ended++;
                    break;
                case waiter:
                    timedOut.Add(id);
                    break;
            }
        }
        if (ended > 0)
        {
            Serve(now);
        }
        if (timedOut.Count == 0)
        {
            return ended;
        }
        foreach (var id in timedOut)
        {
            if (Waiters.Find(w => w.Id == id) is { } w)
            {
                Waiters.Remove(w);
                Outcomes.Add((w.Id, ErrorCode.Locked, 0));
                ended++;
            }
        }
        Serve(now);
        return ended;
    }

    /// <summary>An administrator ends a lease, token or not.</summary>
    public ErrorCode Revoke(long now, long leaseId)
    {
        if (Holders.Find(l => l.Id == leaseId) is not { } lease)
        {
            return ErrorCode.NotFound;
        }
        Holders.Remove(lease);
        Serve(now);
        return ErrorCode.None;
    }

    /// <summary>An administrator ends a session, token or not.</summary>
    public ErrorCode EndSessionByAdmin(long now, long sessionId)
    {
        if (FindSession(sessionId) is not { } session)
        {
            return ErrorCode.NotFound;
        }
        EndSession(session);
        Serve(now);
        return ErrorCode.None;
    }

    /// <summary>Drains a prefix; true if it was not drained yet.</summary>
    public bool Drain(string path)
    {
        if (Drained.Contains(path))
        {
            return false;
        }
        Drained.Add(path);
        return true;
    }

    public ErrorCode Undrain(long now, string path)
    {
        if (!Drained.Remove(path))
        {
            return ErrorCode.NotFound;
        }
        Serve(now);
        return ErrorCode.None;
    }

    public int DropWaiters()
    {
        foreach (var waiter in Waiters)
        {
            Outcomes.Add((waiter.Id, ErrorCode.ShuttingDown, 0));
        }
        var count = Waiters.Count;
        Waiters.Clear();
        return count;
    }

    public MSession? FindSession(long id) => Sessions.Find(s => s.Id == id);

    private void EndSession(MSession session)
    {
        Sessions.Remove(session);
        Holders.RemoveAll(l => l.SessionId == session.Id);
        foreach (var waiter in Waiters.Where(w => w.SessionId == session.Id).ToList())
        {
            Waiters.Remove(waiter);
            Outcomes.Add((waiter.Id, ErrorCode.SessionEnded, 0));
        }
    }

    /// <summary>Oldest first: grant a waiter iff no holder blocks it and no older waiter still waiting conflicts with it.</summary>
    private void Serve(long now)
    {
        var stillWaiting = new List<MWaiter>();
        foreach (var waiter in Waiters.ToList())
        {
            var verdict = CheckHolders(Holders.Select(h => h.Claim), waiter.Claim);
            if (verdict == Verdict.LimitMismatch)
            {
                Waiters.Remove(waiter);
                Outcomes.Add((waiter.Id, ErrorCode.LimitMismatch, 0));
            }
            else if (verdict == Verdict.Free && !IsDrained(waiter.Claim) && !stillWaiting.Any(o => QueueConflict(o.Claim, waiter.Claim)))
            {
                Waiters.Remove(waiter);
                var lease = Grant(waiter.Claim, waiter.Token, waiter.SessionId, waiter.TtlMs, waiter.EnqueuedAt, now, waiter.Principal);
                Outcomes.Add((waiter.Id, ErrorCode.None, lease.Id));
            }
            else
            {
                stillWaiting.Add(waiter);
            }
        }
    }
}

/// <summary>What a request asks for: paths (canonical strings), mode, semaphore limit (0 for shared) and flags.</summary>
internal sealed record MClaim(string[] Paths, LockMode Mode, int Limit, bool LockParents, bool LockChildren);

internal sealed record MLease(long Id, UInt128 Token, MClaim Claim, long SessionId, long Fence, long AcquiredAt, long WaitedMs)
{
    public long TtlMs { get; set; }

    public long ExpiresAt { get; set; }

    public string? Principal { get; init; }
}

internal sealed record MWaiter(long Id, UInt128 Token, MClaim Claim, long SessionId, long TtlMs, long EnqueuedAt, long Deadline)
{
    public string? Principal { get; init; }
}

internal sealed record MSession(long Id, UInt128 Token, long TtlMs)
{
    public long ExpiresAt { get; set; }

    public string? Principal { get; init; }
}

using Leasehold.Core.Pools;

namespace Leasehold.Core.Tests.Pools;

/// <summary>
/// A brute-force model of the engine restricted to what <see cref="PoolModelRun"/> sends: exclusive claims
/// with default flags (so two claims conflict iff one path is an ancestor-or-self of the other), declared
/// resources with attributes {os, n}, pool requests with requirements from <see cref="Requirements"/>, path
/// requests, releases, expiry, cancels, declare and remove. It follows the documented rules with lists and
/// loops only: no tree, no counters, no cache. Whether groups can ever be served together is a plain
/// recursive search; the fallback assignment is the reference's own augmenting-path matching (slots in
/// group order, candidates in preference order), checked against that search.
/// </summary>
internal sealed class PoolReference
{
    /// <summary>The requirement texts (already compact) with the meaning they must have; null: malformed.</summary>
    public static readonly (string Text, Func<RResource, bool>? Matches)[] Requirements =
    [
        ("{}", _ => true),
        ("""{"os":"a"}""", r => r.Os == "a"),
        ("""{"os":"b"}""", r => r.Os == "b"),
        ("""{"n":{"$gt":1}}""", r => r.N is > 1),
        ("""{"n":{"$in":[0,3]}}""", r => r.N is 0 or 3),
        ("""{"os":{"$in":["b"]},"n":{"$gte":2}}""", r => r.Os == "b" && r.N is >= 2),
        ("""{"$or":[{"os":"b"},{"n":0}]}""", r => r.Os == "b" || r.N == 0),
        ("""{"n":{"$lt":2},"os":"a"}""", r => r.N is < 2 and >= 0 && r.Os == "a"),
        // Regular expressions, searched (not anchored unless the pattern says so); the first backtracks
        // catastrophically on the long "aaa…ab" os, and must still answer (no) on every run.
        ("""{"os":{"$regex":"^(a+)+$"}}""", r => r.Os == "a"),
        ("""{"os":{"$regex":"/B/i"}}""", r => r.Os?.Contains('b', StringComparison.Ordinal) == true),
        ("""{"os":{"$not":{"$regex":"^a"}},"n":{"$lte":2}}""", r => r.Os?.StartsWith('a') == false && r.N is <= 2 and >= 0),
        ("""{"n":{"$bogus":1}}""", null),
    ];

    /// <summary>The long os value some resources get: "a" 24 times, then "b".</summary>
    public static readonly string LongOs = new string('a', 24) + "b";

    public const int InvalidRequirement = 11;

    public readonly int HistorySize;
    public readonly SortedDictionary<string, RResource> Resources = new(StringComparer.Ordinal);
    public readonly SortedDictionary<long, RLease> Leases = [];
    public readonly List<RWaiter> Queue = [];
    public readonly List<RHistory> History = [];
    public readonly List<(long WaiterId, ErrorCode Error, RLease? Lease)> Outcomes = [];

    /// <summary>Drained prefixes. Every claim here locks parents and children, so a path is kept off by any drain related to it.</summary>
    public readonly SortedSet<string> Drains = new(StringComparer.Ordinal);

    public long LastLeaseId;
    public long LastFence;
    public long LastWaiterId;
    public long LastReleaseSeq;

    /// <summary>Told when a rarer rule decides something, for the run's statistics.</summary>
    public Action<string>? Note;

    public PoolReference(int historySize)
    {
        HistorySize = historySize;
    }

    public static bool Related(string p, string q)
        => p == q || q.StartsWith(p + "/", StringComparison.Ordinal) || p.StartsWith(q + "/", StringComparison.Ordinal);

    public static bool Under(string pool, string path)
        => pool == path || path.StartsWith(pool + "/", StringComparison.Ordinal);

    public List<RResource> Candidates(RGroup group)
        => [.. Resources.Values.Where(r => Under(group.Pool, r.Path) && Requirements[group.Requirement].Matches!(r))];

    /// <summary>
    /// The documented choice: groups with fewer candidates first (ties in request order); in each, the free
    /// candidates not yet taken, least recently released first, then by path. If a group falls short and the
    /// request has more than one group, the documented fallback: a matching over the free resources
    /// (<see cref="MatchFree"/>). Null if that fails too (or a single group falls short).
    /// </summary>
    public string[][]? Select(RGroup[] groups, Func<string, bool> isFree)
    {
        var order = Enumerable.Range(0, groups.Length).OrderBy(i => Candidates(groups[i]).Count).ToArray();
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var chosen = new string[groups.Length][];
        foreach (var i in order)
        {
            var picks = Preferred(Candidates(groups[i]).Where(r => !taken.Contains(r.Path) && isFree(r.Path)))
                .Take(groups[i].Count)
                .ToArray();
            if (picks.Length < groups[i].Count)
            {
                return groups.Length > 1 ? MatchFree(groups, isFree) : null;
            }
            chosen[i] = picks;
            taken.UnionWith(picks);
        }
        return chosen;
    }

    /// <summary>Paths in preference order: least recently released first (never released: 0), then by path.</summary>
    private static IEnumerable<string> Preferred(IEnumerable<RResource> resources)
        => resources.OrderBy(r => r.ReleasedSeq).ThenBy(r => r.Path, StringComparer.Ordinal).Select(r => r.Path);

    /// <summary>
    /// The fallback when choosing group by group leaves a group short. Slots are the groups' counts in request
    /// order (group 0's slots, then group 1's, ...); each slot in turn gets a free candidate of its group by an
    /// augmenting path (Kuhn): try the group's free candidates in preference order, skipping those already
    /// visited while placing this slot; take one nobody holds, or one whose holder can move elsewhere. If a
    /// slot cannot be placed, null. Each group's choice is then listed by path (ordinal).
    /// A brute-force search over the same free candidates must agree on whether an assignment exists.
    /// </summary>
    private string[][]? MatchFree(RGroup[] groups, Func<string, bool> isFree)
    {
        var free = groups.Select(g => Preferred(Candidates(g).Where(r => isFree(r.Path))).ToList()).ToList();
        var slotGroup = new List<int>();
        for (var g = 0; g < groups.Length; g++)
        {
            for (var k = 0; k < groups[g].Count; k++)
            {
                slotGroup.Add(g);
            }
        }
        var holder = new Dictionary<string, int>(StringComparer.Ordinal); // resource -> slot
        var placedAll = true;
        for (var slot = 0; slot < slotGroup.Count && placedAll; slot++)
        {
            placedAll = Place(slot, new HashSet<string>(StringComparer.Ordinal));
        }
        var fits = FitsTogether(free, [.. groups.Select(g => g.Count)]);
        if (placedAll != fits)
        {
            throw new InvalidOperationException($"reference: the matching {(placedAll ? "placed" : "did not place")} every slot, the search says {(fits ? "it fits" : "it does not fit")}");
        }
        if (!placedAll)
        {
            Note?.Invoke("matching found none");
            return null;
        }
        Note?.Invoke("matching grant");
        return [.. Enumerable.Range(0, groups.Length)
            .Select(g => holder.Where(h => slotGroup[h.Value] == g).Select(h => h.Key).Order(StringComparer.Ordinal).ToArray())];

        bool Place(int slot, HashSet<string> visited)
        {
            foreach (var path in free[slotGroup[slot]])
            {
                if (!visited.Add(path))
                {
                    continue;
                }
                if (!holder.TryGetValue(path, out var other) || Place(other, visited))
                {
                    holder[path] = slot;
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>
    /// Can each group get its count of distinct resources from its list, no resource shared between groups?
    /// A plain recursive search: for each group in turn, every set of <c>count</c> unused resources from its list.
    /// </summary>
    public static bool FitsTogether(IReadOnlyList<IReadOnlyList<string>> lists, IReadOnlyList<int> counts)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        return Fill(0, 0, 0);

        // Group g still needs counts[g] - placed resources, chosen from lists[g][from..].
        bool Fill(int g, int placed, int from)
        {
            if (g == lists.Count)
            {
                return true;
            }
            if (placed == counts[g])
            {
                return Fill(g + 1, 0, 0);
            }
            for (var i = from; i < lists[g].Count; i++)
            {
                if (!used.Add(lists[g][i]))
                {
                    continue;
                }
                var found = Fill(g, placed + 1, i + 1);
                used.Remove(lists[g][i]);
                if (found)
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>Could the groups be served together if every declared resource were free (<see cref="FitsTogether"/> over declared matches)?</summary>
    public bool CanEverBeServed(RGroup[] groups)
        => FitsTogether([.. groups.Select(g => (IReadOnlyList<string>)[.. Candidates(g).Select(r => r.Path)])], [.. groups.Select(g => g.Count)]);

    private bool HeldRelated(string path) => Leases.Values.Any(l => l.Paths.Any(p => Related(p, path)));

    private bool Drained(string path) => Drains.Any(d => Related(d, path));

    private static bool ClaimedBy(IEnumerable<RWaiter> waiters, string path) => waiters.Any(w => w.Paths.Any(p => Related(p, path)));

    public (ErrorCode Error, RLease? Lease, RWaiter? Waiter) AcquirePool(RGroup[] groups, long now, long waitMs, long ttlMs, string? owner, bool reuse, UInt128 token)
    {
        foreach (var group in groups)
        {
            if (Requirements[group.Requirement].Matches is null)
            {
                return (ErrorCode.InvalidQuery, null, null);
            }
            if (Candidates(group).Count < group.Count)
            {
                return (ErrorCode.NoMatch, null, null);
            }
        }
        if (!CanEverBeServed(groups))
        {
            Note?.Invoke("pool NoMatch jointly");
            return (ErrorCode.NoMatch, null, null);
        }
        if (reuse && owner is not null)
        {
            var held = Leases.Values.FirstOrDefault(l => l.Owner == owner && l.Token == token && l.Groups is { } g && g.Length == groups.Length
                && g.Zip(groups).All(p => p.First.Pool == p.Second.Pool && p.First.Requirement == p.Second.Requirement));
            if (held is not null)
            {
                if (ttlMs > 0)
                {
                    held.TtlMs = ttlMs;
                }
                if (held.TtlMs > 0)
                {
                    held.ExpiresAt = now + held.TtlMs;
                }
                return (ErrorCode.None, held, null);
            }
        }
        var chosen = Select(groups, p => !Drained(p) && !HeldRelated(p) && !ClaimedBy(Queue, p));
        if (chosen is not null)
        {
            return (ErrorCode.None, Grant(chosen.SelectMany(c => c).ToArray(), groups, chosen, owner, ttlMs, token, now, now), null);
        }
        if (waitMs == 0)
        {
            // Draining when the drains alone stand in the way.
            return (Drains.Count > 0 && Select(groups, p => !HeldRelated(p) && !ClaimedBy(Queue, p)) is not null ? ErrorCode.Draining : ErrorCode.Locked, null, null);
        }
        var waiter = new RWaiter(++LastWaiterId, token, groups, owner, ttlMs, now, now + waitMs) { Paths = CandidatePaths(groups) };
        Queue.Add(waiter);
        return (ErrorCode.None, null, waiter);
    }

    public string[] CandidatePaths(RGroup[] groups) => [.. groups.SelectMany(g => Candidates(g).Select(r => r.Path)).Distinct()];

    public (ErrorCode Error, RLease? Lease, RWaiter? Waiter) AcquirePaths(string[] paths, long now, long waitMs, long ttlMs, string? owner, UInt128 token)
    {
        if (paths.All(p => !Drained(p) && !HeldRelated(p) && !ClaimedBy(Queue, p)))
        {
            return (ErrorCode.None, Grant(paths, null, null, owner, ttlMs, token, now, now), null);
        }
        if (waitMs == 0)
        {
            return (paths.Any(Drained) ? ErrorCode.Draining : ErrorCode.Locked, null, null);
        }
        var waiter = new RWaiter(++LastWaiterId, token, null, owner, ttlMs, now, now + waitMs) { Paths = paths };
        Queue.Add(waiter);
        return (ErrorCode.None, null, waiter);
    }

    private RLease Grant(string[] paths, RGroup[]? groups, string[][]? chosen, string? owner, long ttlMs, UInt128 token, long now, long enqueuedAt)
    {
        var lease = new RLease(++LastLeaseId, ++LastFence, token, paths, groups, chosen, owner, now, now - enqueuedAt)
        {
            TtlMs = ttlMs,
            ExpiresAt = ttlMs > 0 ? now + ttlMs : long.MaxValue,
            Versions = [.. paths.Select(p => Resources.TryGetValue(p, out var r) ? r.Version : -1)],
        };
        Leases.Add(lease.Id, lease);
        return lease;
    }

    /// <summary>Oldest first: grant every waiter no holder and no older still-blocked waiter stands in the way of.</summary>
    public void Serve(long now)
    {
        var blocked = new List<RWaiter>();
        foreach (var waiter in Queue.ToList())
        {
            RLease? lease = null;
            if (waiter.Groups is { } groups)
            {
                var chosen = Select(groups, p => !Drained(p) && !HeldRelated(p) && !ClaimedBy(blocked, p));
                if (chosen is not null)
                {
                    lease = Grant(chosen.SelectMany(c => c).ToArray(), groups, chosen, waiter.Owner, waiter.TtlMs, waiter.Token, now, waiter.EnqueuedAt);
                }
            }
            else if (waiter.Paths.All(p => !Drained(p) && !HeldRelated(p) && !ClaimedBy(blocked, p)))
            {
                lease = Grant(waiter.Paths, null, null, waiter.Owner, waiter.TtlMs, waiter.Token, now, waiter.EnqueuedAt);
            }
            if (lease is null)
            {
                blocked.Add(waiter);
            }
            else
            {
                Queue.Remove(waiter);
                Outcomes.Add((waiter.Id, ErrorCode.None, lease));
            }
        }
    }

    private void End(RLease lease, EndReason reason, long now)
    {
        History.Add(new RHistory(lease.Id, lease.Owner, lease.Paths, lease.AcquiredAt, now, reason));
        if (History.Count > HistorySize)
        {
            History.RemoveAt(0);
        }
        foreach (var path in lease.Paths)
        {
            if (Resources.TryGetValue(path, out var resource))
            {
                resource.ReleasedSeq = ++LastReleaseSeq;
            }
        }
        Leases.Remove(lease.Id);
    }

    /// <summary>Drains a prefix; false when it was drained already.</summary>
    public bool Drain(string path) => Drains.Add(path);

    public ErrorCode Undrain(string path, long now)
    {
        if (!Drains.Remove(path))
        {
            return ErrorCode.NotFound;
        }
        Serve(now);
        return ErrorCode.None;
    }

    public ErrorCode Release(long id, UInt128 token, long now)
    {
        if (!Leases.TryGetValue(id, out var lease))
        {
            return ErrorCode.NotFound;
        }
        if (lease.Token != token)
        {
            return ErrorCode.InvalidToken;
        }
        End(lease, EndReason.Released, now);
        Serve(now);
        return ErrorCode.None;
    }

    public bool Cancel(long waiterId, long now)
    {
        var waiter = Queue.Find(w => w.Id == waiterId);
        if (waiter is null)
        {
            return false;
        }
        Queue.Remove(waiter);
        Serve(now);
        return true;
    }

    /// <summary>Leases due by now end (by expiry time, then id), the queue is served, then waiters past their deadline fail.</summary>
    public int Advance(long now)
    {
        var due = Leases.Values.Where(l => l.ExpiresAt <= now).OrderBy(l => l.ExpiresAt).ThenBy(l => l.Id).ToList();
        foreach (var lease in due)
        {
            End(lease, EndReason.Expired, now);
        }
        if (due.Count > 0)
        {
            Serve(now);
        }
        var late = Queue.Where(w => w.Deadline <= now).OrderBy(w => w.Deadline).ThenBy(w => w.Id).ToList();
        foreach (var waiter in late)
        {
            Queue.Remove(waiter);
            Outcomes.Add((waiter.Id, ErrorCode.Locked, null));
        }
        if (late.Count > 0)
        {
            Serve(now);
        }
        return due.Count + late.Count;
    }

    public void Declare(string path, string? os, int? n, long now)
    {
        if (Resources.TryGetValue(path, out var existing))
        {
            existing.Os = os;
            existing.N = n;
            existing.Version++;
        }
        else
        {
            Resources.Add(path, new RResource(path) { Os = os, N = n });
        }
        DeclarationsChanged(path, now);
    }

    public ErrorCode Remove(string path, long now)
    {
        if (!Resources.ContainsKey(path))
        {
            return ErrorCode.NotFound;
        }
        if (Leases.Values.Any(l => l.Paths.Contains(path)))
        {
            return ErrorCode.ResourceBusy;
        }
        Resources.Remove(path);
        DeclarationsChanged(path, now);
        return ErrorCode.None;
    }

    private void DeclarationsChanged(string path, long now)
    {
        foreach (var waiter in Queue.Where(w => w.Groups is { } g && g.Any(x => Under(x.Pool, path))).ToList())
        {
            if (!CanEverBeServed(waiter.Groups!))
            {
                if (waiter.Groups!.All(g => Candidates(g).Count >= g.Count))
                {
                    Note?.Invoke("outcome NoMatch jointly");
                }
                Queue.Remove(waiter);
                Outcomes.Add((waiter.Id, ErrorCode.NoMatch, null));
            }
            else
            {
                waiter.Paths = CandidatePaths(waiter.Groups!);
            }
        }
        Serve(now);
    }

    /// <summary>Milliseconds each declared resource under <paramref name="prefix"/> was held within [from, to].</summary>
    public Dictionary<string, long> Utilization(string prefix, long from, long to)
    {
        var held = Resources.Keys.Where(p => Under(prefix, p)).ToDictionary(p => p, _ => 0L, StringComparer.Ordinal);
        void Add(string path, long start, long end)
        {
            if (held.ContainsKey(path))
            {
                held[path] += Math.Max(0, Math.Min(end, to) - Math.Max(start, from));
            }
        }
        foreach (var h in History)
        {
            foreach (var p in h.Paths)
            {
                Add(p, h.AcquiredAt, h.EndedAt);
            }
        }
        foreach (var l in Leases.Values)
        {
            foreach (var p in l.Paths)
            {
                Add(p, l.AcquiredAt, to);
            }
        }
        return held;
    }

    public IEnumerable<long> QueryHistory(string prefix, string? owner, long since, long until, int max)
        => History.AsEnumerable().Reverse()
            .Where(h => h.EndedAt >= since && h.EndedAt <= until && (owner is null || owner == h.Owner) && h.Paths.Any(p => Under(prefix, p)))
            .Take(max)
            .Select(h => h.LeaseId);
}

internal sealed class RResource(string path)
{
    public string Path { get; } = path;

    public string? Os { get; set; }

    /// <summary>The attribute n, or null when the resource has none.</summary>
    public int? N { get; set; }

    public long ReleasedSeq { get; set; }

    /// <summary>Bumped when the attributes are replaced, so a lease knows whether what it holds still has its grant-time attributes.</summary>
    public int Version { get; set; }
}

internal sealed record RGroup(string Pool, int Requirement, int Count);

internal sealed class RLease(long id, long fence, UInt128 token, string[] paths, RGroup[]? groups, string[][]? chosen, string? owner, long acquiredAt, long waitedMs)
{
    public long Id { get; } = id;

    public long Fence { get; } = fence;

    public UInt128 Token { get; } = token;

    public string[] Paths { get; } = paths;

    public RGroup[]? Groups { get; } = groups;

    public string[][]? Chosen { get; } = chosen;

    public string? Owner { get; } = owner;

    public long AcquiredAt { get; } = acquiredAt;

    public long WaitedMs { get; } = waitedMs;

    public long TtlMs { get; set; }

    public long ExpiresAt { get; set; }

    /// <summary>Each path's resource version at the grant (-1: not declared then).</summary>
    public int[] Versions { get; init; } = [];
}

internal sealed class RWaiter(long id, UInt128 token, RGroup[]? groups, string? owner, long ttlMs, long enqueuedAt, long deadline)
{
    public long Id { get; } = id;

    public UInt128 Token { get; } = token;

    public RGroup[]? Groups { get; } = groups;

    public string? Owner { get; } = owner;

    public long TtlMs { get; } = ttlMs;

    public long EnqueuedAt { get; } = enqueuedAt;

    public long Deadline { get; } = deadline;

    /// <summary>A path waiter's paths, or a pool waiter's candidates (every resource it could use).</summary>
    public required string[] Paths { get; set; }
}

internal sealed record RHistory(long LeaseId, string? Owner, string[] Paths, long AcquiredAt, long EndedAt, EndReason Reason);

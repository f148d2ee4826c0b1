using Leasehold.Core.Pools;
using Leasehold.Core.Query;

namespace Leasehold.Core;

public sealed partial class LockEngine
{
    private const int MaxGroups = 16;
    private const int MaxCount = 1000;
    private const int MaxCachedCandidateLists = 1024;

    // Matching resources per (pool, requirement), with the declarations version they were built at; rebuilt
    // only after a declaration changed under that pool (see PoolChangedSince).
    private readonly Dictionary<string, (long Version, DeclaredResource[] Resources)> _candidates = new(StringComparer.Ordinal);
    private long _declarationsVersion;

    // For each pool a cached list names: the declarations version of the last change at or under it. Only
    // those pools are tracked (a declaration looks up its own path's prefixes, O(depth)); cleared with the caches.
    private readonly Dictionary<string, long> _poolChangedAt = new(StringComparer.Ordinal);

    /// <summary>For tests: how many candidate lists were built (cache misses) since the engine started.</summary>
    internal long CandidateListsBuilt { get; private set; }
    private long _lastReleaseSeq;
    private int _declaredCount;

    public int DeclaredCount => _declaredCount;

    /// <summary>
    /// Grants <c>count</c> free declared resources per group, all groups at once, chosen least recently
    /// released first; or queues the request; or fails at once with <see cref="ErrorCode.NoMatch"/> when
    /// too few declared resources match at all.
    /// </summary>
    private AcquireResult AcquireFromPools(AcquireLease command)
    {
        var groups = command.Groups!;
        if (command.Paths.Length != 0)
        {
            return AcquireResult.Fail(ErrorCode.InvalidArgument, "give either paths or pool groups, not both");
        }
        if (groups.Length is 0 or > MaxGroups)
        {
            return AcquireResult.Fail(ErrorCode.InvalidArgument, $"between 1 and {MaxGroups} requirement groups");
        }
        if (command.Mode != LockMode.Exclusive || command.Limit is not null)
        {
            return AcquireResult.Fail(ErrorCode.InvalidArgument, "pool resources are allocated exclusively (no mode, no limit)");
        }
        if (command.TtlMs < 0 || command.TtlMs > Limits.MaxTtlMs || command.WaitMs < 0 || command.WaitMs > Limits.MaxWaitMs)
        {
            return AcquireResult.Fail(ErrorCode.InvalidArgument, "ttl or wait out of range");
        }
        if ((CheckOwner(command.Owner) ?? CheckName(command.Principal, "principal")) is { } ownerError)
        {
            return AcquireResult.Fail(ErrorCode.InvalidArgument, ownerError);
        }
        Session? session = null;
        if (command.SessionId != 0 && !_sessions.TryGetValue(command.SessionId, out session))
        {
            return AcquireResult.Fail(ErrorCode.NotFound, $"session {command.SessionId} does not exist (closed or expired)");
        }
        if (groups.Any(g => g.Count is < 1 or > MaxCount))
        {
            return AcquireResult.Fail(ErrorCode.InvalidArgument, $"count is between 1 and {MaxCount}");
        }
        if (Replaying && RecordedFor(0) is { } recorded)
        {
            return ApplyRecordedAcquire(command, recorded, session);
        }
        var claims = new GroupClaim[groups.Length];
        for (var i = 0; i < groups.Length; i++)
        {
            var group = groups[i];
            if (!GroupClaim.TryCreate(group, out var compiled, out var error))
            {
                return AcquireResult.Fail(ErrorCode.InvalidQuery, error);
            }
            var requirement = compiled.Requirement;
            var matching = Candidates(group.Pool, requirement).Length;
            if (matching < group.Count)
            {
                return AcquireResult.Fail(ErrorCode.NoMatch,
                    $"{matching} declared resource(s) under {group.Pool} match {requirement.Text}; the request needs {group.Count}");
            }
            claims[i] = compiled;
        }
        if (!CanEverBeServed(claims))
        {
            return AcquireResult.Fail(ErrorCode.NoMatch,
                "the groups together need more distinct resources than the declared ones matching them");
        }
        if (command.Reuse && command.Owner is not null && FindReusable(command, claims) is { } held)
        {
            Note(0, PoolDecision.Reused);
            return new AcquireResult(ErrorCode.None, RenewReused(held, command), null);
        }
        var claim = new ClaimRequest([], LockMode.Exclusive, 1, command.LockParents, command.LockChildren, command.Owner,
            command.SessionId, command.TtlMs, command.Token, command.Now, command.Now + command.WaitMs, claims, command.Principal);
        if (SelectFromPools(claim, long.MaxValue) is { } chosen)
        {
            NoteGranted(0, claims);
            return new AcquireResult(ErrorCode.None, Grant(claim with { Paths = chosen }, command.Now, session), null);
        }
        if (command.WaitMs == 0)
        {
            return DrainsDecided(claim)
                ? AcquireResult.Fail(ErrorCode.Draining, "enough matching resources are free, but some of them are drained for maintenance")
                : AcquireResult.Fail(ErrorCode.Locked, "every matching resource is held or promised to an earlier waiter");
        }
        var candidates = CandidatePaths(claims);
        NoteCandidates(0, PoolDecision.Queued, claims, candidates);
        return new AcquireResult(ErrorCode.None, null, Enqueue(claim with { Paths = candidates }, session));
    }

    /// <summary>A reusing request found the owner's lease: renew it (the request's ttl, if it gives one, from now).</summary>
    private Lease RenewReused(Lease held, AcquireLease command)
    {
        Changes++;
        Extend(held, command.TtlMs, command.Now);
        EmitRenewed(held, command.Now);
        return held;
    }

    /// <summary>Most group slots the matching fallback of <see cref="MatchFree"/> tries; beyond it, group by group only.</summary>
    private const int MaxMatchedSlots = 64;

    /// <summary>
    /// Could the groups be served at once if every declared resource were free? Each group needs its count
    /// of distinct matching resources, none shared. By Hall's theorem that holds exactly when every set S
    /// of groups has at least as many resources matching some group of S as S needs in all. With at most
    /// 16 groups that is at most 65,536 sets: each resource is reduced to the set (bit mask) of groups it
    /// matches, and a sum over subsets counts, for every set T, the resources matching only groups of T.
    /// Linear in the resources, no search, no recursion.
    /// </summary>
    private bool CanEverBeServed(GroupClaim[] claims)
    {
        if (claims.Length == 1)
        {
            return Candidates(claims[0].Group.Pool, claims[0].Requirement).Length >= claims[0].Group.Count;
        }
        var masks = new Dictionary<ResourcePath, int>();
        for (var g = 0; g < claims.Length; g++)
        {
            foreach (var resource in Candidates(claims[g].Group.Pool, claims[g].Requirement))
            {
                masks[resource.Path] = masks.GetValueOrDefault(resource.Path) | (1 << g);
            }
        }
        var all = (1 << claims.Length) - 1;
        // within[T] = resources whose groups all lie in T.
        var within = new long[all + 1];
        foreach (var mask in masks.Values)
        {
            within[mask]++;
        }
        for (var bit = 0; bit < claims.Length; bit++)
        {
            for (var t = 0; t <= all; t++)
            {
                if ((t & (1 << bit)) != 0)
                {
                    within[t] += within[t ^ (1 << bit)];
                }
            }
        }
        var total = masks.Count;
        for (var set = 1; set <= all; set++)
        {
            long need = 0;
            for (var g = 0; g < claims.Length; g++)
            {
                if ((set & (1 << g)) != 0)
                {
                    need += claims[g].Group.Count;
                }
            }
            // Resources matching some group of the set = all minus those matching only groups outside it.
            if (total - within[all ^ set] < need)
            {
                return false;
            }
        }
        return true;
    }

    private static bool Augment(int slot, DeclaredResource[][] slots, Dictionary<ResourcePath, int> owner, HashSet<ResourcePath> seen)
    {
        foreach (var resource in slots[slot])
        {
            if (!seen.Add(resource.Path))
            {
                continue;
            }
            if (!owner.TryGetValue(resource.Path, out var other) || Augment(other, slots, owner, seen))
            {
                owner[resource.Path] = slot;
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The oldest lease (lowest id) of the same owner and the same token whose groups name the same pools
    /// and requirements, if any. The token must match, not only the owner: owner names are public, so a
    /// name alone must never hand over (or shorten) someone else's lease (a command replayed from log version
    /// 1 matches by owner alone, as the server that wrote it did). Oldest, not the first found: the
    /// dictionary's order differs between a live engine and one restored from a snapshot, and both must
    /// choose the same lease. The principal must match too: the token of a reused lease is derived from its
    /// owner name, so without it one principal could take over another's lease by naming its owner.
    /// </summary>
    private Lease? FindReusable(AcquireLease command, GroupClaim[] claims)
    {
        Lease? found = null;
        foreach (var lease in _leases.Values)
        {
            if (lease.Groups is { } groups && (lease.Token == command.Token || command.ReuseByOwnerOnly)
                && string.Equals(lease.Owner, command.Owner, StringComparison.Ordinal)
                && string.Equals(lease.Principal, command.Principal, StringComparison.Ordinal)
                && groups.Length == claims.Length
                && groups.Zip(claims).All(p => p.First.Group.Pool.Equals(p.Second.Group.Pool) && p.First.Requirement.Text == p.Second.Requirement.Text)
                && (found is null || lease.Id < found.Id))
            {
                found = lease;
            }
        }
        return found;
    }

    /// <summary>
    /// Picks resources for every group, or returns null. A resource is free when no holder blocks it and
    /// no waiter older than <paramref name="olderThan"/> (every waiter: <see cref="long.MaxValue"/>) could take it, so a waiter for a rare
    /// resource keeps its claim on it against later requests that would take anything. Groups with
    /// fewer candidates choose first; within a group, least recently released first, then by path.
    /// </summary>
    private ResourcePath[]? SelectFromPools(in ClaimRequest claim, long olderThan)
    {
        var groups = claim.Groups!;
        var order = Enumerable.Range(0, groups.Length).OrderBy(i => Candidates(groups[i].Group.Pool, groups[i].Requirement).Length).ToArray();
        var taken = new HashSet<ResourcePath>();
        var chosen = new ResourcePath[groups.Length][];
        foreach (var i in order)
        {
            var group = groups[i];
            var picks = new List<DeclaredResource>(group.Group.Count);
            foreach (var resource in Candidates(group.Group.Pool, group.Requirement))
            {
                if (taken.Contains(resource.Path) || !IsFree(resource.Path, claim, olderThan))
                {
                    continue;
                }
                Insert(picks, resource, group.Group.Count);
            }
            if (picks.Count < group.Group.Count)
            {
                return groups.Length > 1 && groups.Sum(g => g.Group.Count) <= MaxMatchedSlots ? MatchFree(claim, olderThan) : null;
            }
            chosen[i] = [.. picks.Select(p => p.Path)];
            taken.UnionWith(chosen[i]);
        }
        for (var i = 0; i < groups.Length; i++)
        {
            groups[i].Chosen = chosen[i];
        }
        return [.. chosen.SelectMany(c => c)];
    }

    /// <summary>
    /// When choosing group by group fails, the groups may still fit together (one group's choice took what
    /// another needed): match group slots to free resources by augmenting paths (Kuhn's algorithm), trying
    /// each slot's candidates in preference order, and take that assignment if every slot is filled. Only
    /// for requests of at most <see cref="MaxMatchedSlots"/> resources in all, which bounds its cost.
    /// </summary>
    private ResourcePath[]? MatchFree(in ClaimRequest claim, long olderThan)
    {
        var groups = claim.Groups!;
        var free = new DeclaredResource[groups.Length][];
        for (var i = 0; i < groups.Length; i++)
        {
            var list = new List<DeclaredResource>();
            foreach (var resource in Candidates(groups[i].Group.Pool, groups[i].Requirement))
            {
                if (IsFree(resource.Path, claim, olderThan))
                {
                    list.Add(resource);
                }
            }
            list.Sort((a, b) => Better(a, b) ? -1 : Better(b, a) ? 1 : 0);
            free[i] = [.. list];
        }
        var slotGroup = Enumerable.Range(0, groups.Length).SelectMany(i => Enumerable.Repeat(i, groups[i].Group.Count)).ToArray();
        var slots = slotGroup.Select(i => free[i]).ToArray();
        var owner = new Dictionary<ResourcePath, int>();
        for (var slot = 0; slot < slots.Length; slot++)
        {
            if (!Augment(slot, slots, owner, []))
            {
                return null;
            }
        }
        for (var i = 0; i < groups.Length; i++)
        {
            groups[i].Chosen = [.. owner.Where(o => slotGroup[o.Value] == i).Select(o => o.Key).OrderBy(p => p.Value, StringComparer.Ordinal)];
        }
        return [.. groups.SelectMany(g => g.Chosen)];
    }

    /// <summary>Keeps the <paramref name="count"/> best resources: least recently released, then by path.</summary>
    private static void Insert(List<DeclaredResource> picks, DeclaredResource resource, int count)
    {
        var at = picks.Count;
        while (at > 0 && Better(resource, picks[at - 1]))
        {
            at--;
        }
        if (at >= count)
        {
            return;
        }
        picks.Insert(at, resource);
        if (picks.Count > count)
        {
            picks.RemoveAt(picks.Count - 1);
        }
    }

    private static bool Better(DeclaredResource a, DeclaredResource b)
        => a.ReleasedSeq != b.ReleasedSeq
            ? a.ReleasedSeq < b.ReleasedSeq
            : string.CompareOrdinal(a.Path.Value, b.Path.Value) < 0;

    private bool IsFree(ResourcePath path, in ClaimRequest claim, long olderThan)
        => !IsDrained(path, claim.LockChildren)
           && CheckSamePath(path, claim) == Check.Free
           && !_tree.IsCoveredBy(Layer.Held, path, claim.Mode, samePath: false)
           && (olderThan == long.MaxValue
               ? !_tree.IsCoveredBy(Layer.Queued, path, claim.Mode, samePath: true)
                 && !_tree.Covers(Layer.Queued, path, claim.Mode, claim.LockParents, claim.LockChildren)
               : !_tree.HasOlderConflict(path, claim.Mode, claim.LockParents, claim.LockChildren, olderThan));

    /// <summary>Declared resources at or under <paramref name="pool"/> that match, cached until declarations change.</summary>
    private DeclaredResource[] Candidates(ResourcePath pool, Requirement requirement)
    {
        var key = pool.Value + "\n" + requirement.Text;
        if (_candidates.TryGetValue(key, out var cached) && !PoolChangedSince(pool, cached.Version))
        {
            return cached.Resources;
        }
        CandidateListsBuilt++;
        var found = new List<DeclaredResource>();
        if (_tree.Find(pool) is { } node)
        {
            CollectMatching(node, requirement, found);
        }
        if (_candidates.Count >= MaxCachedCandidateLists)
        {
            ForgetCachedLists();
        }
        var resources = found.ToArray();
        _candidates[key] = (_declarationsVersion, resources);
        TrackPool(pool);
        return resources;
    }

    /// <summary>Has a declaration changed at or under <paramref name="pool"/> after <paramref name="version"/>?</summary>
    private bool PoolChangedSince(ResourcePath pool, long version)
        => !_poolChangedAt.TryGetValue(pool.Value, out var changedAt) || changedAt > version;

    /// <summary>From now on a declaration under <paramref name="pool"/> invalidates the lists cached for it.</summary>
    private void TrackPool(ResourcePath pool) => _poolChangedAt.TryAdd(pool.Value, 0);

    private void ForgetCachedLists()
    {
        _candidates.Clear();
        _resourceLists.Clear();
        _poolChangedAt.Clear();
    }

    /// <summary>
    /// A declaration changed at <paramref name="path"/>: the lists cached for the pools at or above it are
    /// stale, and only those (a declaration in one pool leaves every other pool's lists alone). O(depth).
    /// </summary>
    private void DeclarationChangedAt(ResourcePath path)
    {
        _declarationsVersion++;
        if (_poolChangedAt.Count == 0)
        {
            return;
        }
        var lookup = _poolChangedAt.GetAlternateLookup<ReadOnlySpan<char>>();
        var value = path.Value.AsSpan();
        if (lookup.ContainsKey("/"))
        {
            lookup["/"] = _declarationsVersion;
        }
        for (var i = 1; i <= value.Length; i++)
        {
            if (i == value.Length || value[i] == '/')
            {
                var prefix = value[..i];
                if (lookup.ContainsKey(prefix))
                {
                    lookup[prefix] = _declarationsVersion;
                }
            }
        }
    }

    private void CollectMatching(LockNode node, Requirement requirement, List<DeclaredResource> found)
    {
        if (node.Resource is { } resource && (MatchRule?.Invoke(resource, requirement) ?? requirement.Matches(resource.Attributes)))
        {
            found.Add(resource);
        }
        if (node.Children is null)
        {
            return;
        }
        // Ordinal order, not the dictionary's: a restored engine must list candidates in the same order.
        foreach (var key in node.Children.Keys.Order(StringComparer.Ordinal))
        {
            CollectMatching(node.Children[key], requirement, found);
        }
    }

    private ResourcePath[] CandidatePaths(GroupClaim[] claims)
        => [.. claims.SelectMany(c => Candidates(c.Group.Pool, c.Requirement).Select(r => r.Path)).Distinct()];
}

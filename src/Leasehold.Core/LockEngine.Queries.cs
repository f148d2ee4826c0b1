namespace Leasehold.Core;

public sealed partial class LockEngine
{
    public Lease? GetLease(long id) => _leases.GetValueOrDefault(id);

    /// <summary>Holders of exactly this path and the waiters that want it, oldest first.</summary>
    public ResourceState GetResource(ResourcePath path)
    {
        var node = _tree.Find(path);
        return node is null
            ? new ResourceState(path, [], [])
            : new ResourceState(path, [.. node.Holders], [.. node.Waiters]);
    }

    /// <summary>Held paths at or under <paramref name="prefix"/>, in ordinal order, at most <paramref name="max"/>.</summary>
    public IReadOnlyList<ResourceState> ListHeld(ResourcePath prefix, int max)
    {
        var result = new List<ResourceState>();
        var node = _tree.Find(prefix);
        if (node is not null)
        {
            Collect(node, prefix.Segments, result, max);
        }
        return result;
    }

    private static void Collect(LockNode node, string[] segments, List<ResourceState> result, int max)
    {
        if (result.Count >= max)
        {
            return;
        }
        if (node.Holders.Count > 0)
        {
            ResourcePath.TryFromSegments(segments, out var path, out _);
            result.Add(new ResourceState(path, [.. node.Holders], [.. node.Waiters]));
        }
        if (node.Children is null)
        {
            return;
        }
        foreach (var key in node.Children.Keys.Order(StringComparer.Ordinal))
        {
            var child = node.Children[key];
            if (child.Holders.Count > 0 || !child.Held.IsEmpty)
            {
                Collect(child, [.. segments, key], result, max);
            }
        }
    }

    /// <summary>
    /// The leases that keep a claim from being granted: holders of the same path in a conflicting mode
    /// (or a full semaphore), holders of an ancestor that lock their children, holders below that lock
    /// their parents. At most <paramref name="max"/>, each once.
    /// </summary>
    public IReadOnlyList<Lease> FindBlockers(IEnumerable<ResourcePath> paths, LockMode mode, int max = 16)
    {
        var found = new List<Lease>();
        foreach (var path in paths)
        {
            var node = _tree.Root;
            for (var i = 0; i <= path.Depth && node is not null; i++)
            {
                var exact = i == path.Depth;
                foreach (var holder in node.Holders)
                {
                    if ((exact || holder.LockChildren) && (mode == LockMode.Exclusive || holder.Mode == LockMode.Exclusive))
                    {
                        AddOnce(found, holder);
                    }
                }
                if (exact)
                {
                    CollectBelow(node, mode, found, max);
                }
                else
                {
                    node = node.Child(path.Segments[i]);
                }
            }
        }
        return found.Count > max ? found[..max] : found;
    }

    private static void CollectBelow(LockNode node, LockMode mode, List<Lease> found, int max)
    {
        if (node.Children is null || !node.Held.Conflicts(ClaimCounts.BelowLockParents, mode))
        {
            return;
        }
        foreach (var child in node.Children.Values)
        {
            foreach (var holder in child.Holders)
            {
                if (found.Count >= max)
                {
                    return;
                }
                if (holder.LockParents && (mode == LockMode.Exclusive || holder.Mode == LockMode.Exclusive))
                {
                    AddOnce(found, holder);
                }
            }
            CollectBelow(child, mode, found, max);
        }
    }

    private static void AddOnce(List<Lease> found, Lease lease)
    {
        if (!found.Contains(lease))
        {
            found.Add(lease);
        }
    }

    /// <summary>
    /// What a new exclusive request for <paramref name="path"/> (default flags) would wait for besides the
    /// path's own holders and queue: leases on an ancestor that lock their children or on a descendant
    /// that lock their parents, and requests queued on an ancestor or a descendant, oldest first. A
    /// status view that showed only the exact path would say "free" while a child's lease blocks it.
    /// At most <paramref name="max"/> of each.
    /// </summary>
    public Surroundings GetSurroundings(ResourcePath path, int max)
    {
        var holders = new List<Lease>();
        // FindBlockers also answers the path's own holders (shown apart); room is made for them, then they are skipped.
        var own = _tree.Find(path)?.Holders.Count ?? 0;
        foreach (var lease in FindBlockers([path], LockMode.Exclusive, max + own))
        {
            if (holders.Count < max && !Array.Exists(lease.Paths, p => p.Equals(path)))
            {
                holders.Add(lease);
            }
        }
        // A default exclusive claim locks both its parents and its children, so every request queued on
        // the same line conflicts with it whatever that request's own flags, and it queues behind them.
        var queued = new List<Waiter>();
        var node = _tree.Root;
        for (var i = 0; i < path.Depth && node is not null; i++)
        {
            AddWaiters(queued, node.Waiters, path);
            node = node.Child(path.Segments[i]);
        }
        if (node is not null)
        {
            CollectQueuedBelow(node, queued, path);
        }
        queued.Sort((a, b) => a.Id.CompareTo(b.Id));
        return new Surroundings(holders, queued.Count > max ? queued[..max] : queued);
    }

    private static void CollectQueuedBelow(LockNode node, List<Waiter> queued, ResourcePath path)
    {
        if (node.Children is null)
        {
            return;
        }
        foreach (var child in node.Children.Values)
        {
            if (!child.Queued.IsEmpty)
            {
                AddWaiters(queued, child.Waiters, path);
                CollectQueuedBelow(child, queued, path);
            }
        }
    }

    // A waiter that also claims the path itself is already in the path's own queue.
    private static void AddWaiters(List<Waiter> queued, List<Waiter> waiters, ResourcePath path)
    {
        foreach (var waiter in waiters)
        {
            if (!queued.Contains(waiter) && !Array.Exists(waiter.Paths, p => p.Equals(path)))
            {
                queued.Add(waiter);
            }
        }
    }

    /// <summary>
    /// Is <paramref name="fence"/> the fencing token of a lease that holds <paramref name="path"/> right
    /// now, either on the path itself or on an ancestor that locks its children?
    /// </summary>
    public FenceState CheckFence(ResourcePath path, long fence)
    {
        var holders = new List<Lease>();
        var node = _tree.Root;
        for (var i = 0; i <= path.Depth && node is not null; i++)
        {
            var exact = i == path.Depth;
            foreach (var holder in node.Holders)
            {
                if ((exact || holder.LockChildren) && !holders.Contains(holder))
                {
                    holders.Add(holder);
                }
            }
            node = exact ? null : node.Child(path.Segments[i]);
        }
        return new FenceState(path, fence, holders.Exists(h => h.Fence == fence), holders);
    }
}

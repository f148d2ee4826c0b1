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

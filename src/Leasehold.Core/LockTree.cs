namespace Leasehold.Core;

/// <summary>
/// The tree of paths with per-node claim counters. Every check walks the path once from the root:
/// its cost grows with the depth of the path, never with the number of leases or waiters.
/// </summary>
internal sealed class LockTree
{
    private const int MaxPooledNodes = 4096;

    // Emptied nodes are kept for reuse, so acquiring and releasing a path allocates no node.
    private readonly Stack<LockNode> _pool = new();

    public LockNode Root { get; } = new();

    /// <summary>Nodes in the tree now (the root excluded): what held and wanted paths cost in memory.</summary>
    public int NodeCount { get; private set; }

    public LockNode? Find(ResourcePath path)
    {
        var node = Root;
        foreach (var segment in path.Segments)
        {
            node = node.Child(segment);
            if (node is null)
            {
                return null;
            }
        }
        return node;
    }

    public LockNode GetOrCreate(ResourcePath path)
    {
        var node = Root;
        foreach (var segment in path.Segments)
        {
            node.Children ??= new Dictionary<string, LockNode>(StringComparer.Ordinal);
            if (!node.Children.TryGetValue(segment, out var child))
            {
                child = _pool.Count > 0 ? _pool.Pop() : new LockNode();
                child.Segment = segment;
                child.Parent = node;
                node.Children.Add(segment, child);
                NodeCount++;
            }
            node = child;
        }
        return node;
    }

    /// <summary>Adds (delta 1) or removes (delta -1) one claim on <paramref name="node"/> in a layer.</summary>
    public static void Count(Layer layer, LockNode node, Claim claim, int delta)
        => Count(layer, node, claim.Mode, claim.LockParents, claim.LockChildren, delta);

    public static void Count(Layer layer, LockNode node, LockMode mode, bool lockParents, bool lockChildren, int delta)
    {
        ref var own = ref node.Counts(layer);
        own[ClaimCounts.Index(ClaimCounts.Exact, mode)] += delta;
        if (lockChildren)
        {
            own[ClaimCounts.Index(ClaimCounts.ExactLockChildren, mode)] += delta;
        }
        for (var ancestor = node.Parent; ancestor is not null; ancestor = ancestor.Parent)
        {
            ref var counts = ref ancestor.Counts(layer);
            counts[ClaimCounts.Index(ClaimCounts.Below, mode)] += delta;
            if (lockParents)
            {
                counts[ClaimCounts.Index(ClaimCounts.BelowLockParents, mode)] += delta;
            }
        }
    }

    /// <summary>Removes empty nodes from <paramref name="node"/> upwards and keeps them for reuse.</summary>
    public void Prune(LockNode node)
    {
        while (node != Root && node.IsUnused)
        {
            var parent = node.Parent!;
            parent.Children!.Remove(node.Segment);
            NodeCount--;
            node.Parent = null;
            node.Segment = "";
            if (_pool.Count < MaxPooledNodes)
            {
                _pool.Push(node);
            }
            node = parent;
        }
    }

    /// <summary>
    /// Would the claims counted in <paramref name="layer"/> keep a new claim on <paramref name="path"/>
    /// from being taken? That is: a counted claim on an ancestor that locks its children, one below that
    /// locks its parents, or (when <paramref name="samePath"/>) one on the path itself, in a conflicting mode.
    /// </summary>
    public bool IsCoveredBy(Layer layer, ResourcePath path, LockMode mode, bool samePath)
    {
        var node = Root;
        foreach (var segment in path.Segments)
        {
            if (node.Counts(layer).Conflicts(ClaimCounts.ExactLockChildren, mode))
            {
                return true;
            }
            node = node.Child(segment);
            if (node is null)
            {
                return false;
            }
        }
        ref var counts = ref node.Counts(layer);
        return (samePath && counts.Conflicts(ClaimCounts.Exact, mode))
               || counts.Conflicts(ClaimCounts.BelowLockParents, mode);
    }

    /// <summary>
    /// Would a claim on <paramref name="path"/> cover a claim counted in <paramref name="layer"/> on
    /// another path: one on an ancestor (if it locks its parents) or below (if it locks its children)?
    /// </summary>
    public bool Covers(Layer layer, ResourcePath path, LockMode mode, bool lockParents, bool lockChildren)
    {
        var node = Root;
        foreach (var segment in path.Segments)
        {
            if (lockParents && node.Counts(layer).Conflicts(ClaimCounts.Exact, mode))
            {
                return true;
            }
            node = node.Child(segment);
            if (node is null)
            {
                return false;
            }
        }
        return lockChildren && node.Counts(layer).Conflicts(ClaimCounts.Below, mode);
    }
}

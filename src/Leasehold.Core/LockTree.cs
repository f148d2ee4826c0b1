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

    /// <summary>Adds a waiter's claim on <paramref name="node"/> to the counters and to the queue index.</summary>
    public static void AddWaiter(LockNode node, Waiter waiter)
    {
        Count(Layer.Queued, node, waiter, 1);
        node.Run(LockNode.ExactRun(waiter.Mode, waiter.LockChildren)).Add(waiter);
        if (waiter.Mode == LockMode.Exclusive)
        {
            node.WaitLimits ??= [];
            node.WaitLimits[waiter.Limit] = node.WaitLimits.GetValueOrDefault(waiter.Limit) + 1;
        }
        var below = LockNode.BelowRun(waiter.Mode, waiter.LockParents);
        for (var ancestor = node.Parent; ancestor is not null; ancestor = ancestor.Parent)
        {
            ancestor.Run(below).Add(waiter);
        }
    }

    /// <summary>
    /// Takes a waiter's claim on <paramref name="node"/> out of the counters and the queue index; the
    /// waiter's <see cref="Waiter.IndexEpoch"/> must already have moved on (its entries are stale).
    /// </summary>
    public static void RemoveWaiter(LockNode node, Waiter waiter)
    {
        Count(Layer.Queued, node, waiter, -1);
        node.Runs![LockNode.ExactRun(waiter.Mode, waiter.LockChildren)]!.Remove();
        if (waiter.Mode == LockMode.Exclusive && --node.WaitLimits![waiter.Limit] == 0)
        {
            node.WaitLimits.Remove(waiter.Limit);
        }
        var below = LockNode.BelowRun(waiter.Mode, waiter.LockParents);
        for (var ancestor = node.Parent; ancestor is not null; ancestor = ancestor.Parent)
        {
            ancestor.Runs![below]!.Remove();
        }
    }

    /// <summary>
    /// Would a waiter older than <paramref name="before"/> (a lower id) conflict with a claim on
    /// <paramref name="path"/>, in either direction? The queue rule between waiters, asked of the older ones
    /// only: the same test as <see cref="IsCoveredBy"/> (same path included) and <see cref="Covers"/> on the
    /// <see cref="Layer.Queued"/> counters, with "is there one" replaced by "is the oldest one older".
    /// O(depth), like the checks on counters: each run knows its oldest waiter.
    /// </summary>
    public bool HasOlderConflict(ResourcePath path, LockMode mode, bool lockParents, bool lockChildren, long before)
    {
        var node = Root;
        foreach (var segment in path.Segments)
        {
            if (!node.Queued.IsEmpty
                && (OlderIn(node, ClaimCounts.ExactLockChildren, mode, before) || (lockParents && OlderIn(node, ClaimCounts.Exact, mode, before))))
            {
                return true;
            }
            node = node.Child(segment);
            if (node is null)
            {
                return false;
            }
        }
        return !node.Queued.IsEmpty
               && (OlderIn(node, ClaimCounts.Exact, mode, before)
                   || OlderIn(node, ClaimCounts.BelowLockParents, mode, before)
                   || (lockChildren && OlderIn(node, ClaimCounts.Below, mode, before)));
    }

    /// <summary>Is a waiter older than <paramref name="before"/> counted in <paramref name="kind"/> on the node, in a mode conflicting with <paramref name="mode"/>?</summary>
    private static bool OlderIn(LockNode node, int kind, LockMode mode, long before)
        => Older(node, kind, LockMode.Exclusive, before) || (mode == LockMode.Exclusive && Older(node, kind, LockMode.Shared, before));

    private static bool Older(LockNode node, int kind, LockMode held, long before)
    {
        if (node.Queued[ClaimCounts.Index(kind, held)] == 0)
        {
            return false;
        }
        var oldest = kind switch
        {
            ClaimCounts.Exact => Math.Min(node.MinId(LockNode.ExactRun(held, false)), node.MinId(LockNode.ExactRun(held, true))),
            ClaimCounts.ExactLockChildren => node.MinId(LockNode.ExactRun(held, true)),
            ClaimCounts.Below => Math.Min(node.MinId(LockNode.BelowRun(held, false)), node.MinId(LockNode.BelowRun(held, true))),
            _ => node.MinId(LockNode.BelowRun(held, true)),
        };
        return oldest < before;
    }
}

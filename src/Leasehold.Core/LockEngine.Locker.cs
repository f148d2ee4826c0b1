namespace Leasehold.Core;

public sealed partial class LockEngine
{
    /// <summary>
    /// The one lease Locker's <c>dohaz</c> names for <paramref name="path"/> (a read; the compatibility
    /// front-ends also use it to name the holder in a refusal). Among the leases that block an exclusive
    /// claim on the path: first the oldest (lowest fence) that holds the path itself or a descendant and
    /// locks its parents; otherwise the outermost one that covers the path, walking from the root: an
    /// ancestor that locks its children, or at last a holder of the path itself. Null when nothing holds it.
    /// </summary>
    public Lease? FindLockerHolder(ResourcePath path)
    {
        if (_tree.Find(path) is { } target)
        {
            var oldest = OldestBelow(target, OldestLockingParents(target, null));
            if (oldest is not null)
            {
                return oldest;
            }
        }
        var node = _tree.Root;
        for (var i = 0; node is not null; i++)
        {
            var exact = i == path.Depth;
            Lease? first = null;
            foreach (var holder in node.Holders)
            {
                if ((exact || holder.LockChildren) && (first is null || holder.Fence < first.Fence))
                {
                    first = holder;
                }
            }
            if (first is not null || exact)
            {
                return first;
            }
            node = node.Child(path.Segments[i]);
        }
        return null;
    }

    /// <summary>The oldest of <paramref name="oldest"/> and the holders of exactly <paramref name="node"/> that lock their parents.</summary>
    private static Lease? OldestLockingParents(LockNode node, Lease? oldest)
    {
        foreach (var holder in node.Holders)
        {
            if (holder.LockParents && (oldest is null || holder.Fence < oldest.Fence))
            {
                oldest = holder;
            }
        }
        return oldest;
    }

    /// <summary>The oldest of <paramref name="oldest"/> and the holders strictly below <paramref name="node"/> that lock their parents.</summary>
    private static Lease? OldestBelow(LockNode node, Lease? oldest)
    {
        if (node.Children is null || !node.Held.Conflicts(ClaimCounts.BelowLockParents, LockMode.Exclusive))
        {
            return oldest;
        }
        foreach (var child in node.Children.Values)
        {
            oldest = OldestBelow(child, OldestLockingParents(child, oldest));
        }
        return oldest;
    }
}

namespace Leasehold.Core;

/// <summary>One path in the resource tree. Nodes exist while something holds, waits on or lies below them.</summary>
internal sealed class LockNode
{
    public string Segment = "";
    public LockNode? Parent;
    public Dictionary<string, LockNode>? Children;

    public ClaimCounts Held;
    public ClaimCounts Queued;
    public ClaimCounts Blocked;

    /// <summary>Leases holding exactly this path.</summary>
    public readonly List<Lease> Holders = [];

    /// <summary>Waiters with a claim on exactly this path, oldest first.</summary>
    public readonly List<Waiter> Waiters = [];

    /// <summary>The resource declared at this path, if any.</summary>
    public Pools.DeclaredResource? Resource;

    /// <summary>The drain on exactly this path, if it is drained.</summary>
    public Drain? Drain;

    /// <summary>How many drained paths lie strictly below this node: a claim here that locks its children is kept off.</summary>
    public int DrainedBelow;

    public ref ClaimCounts Counts(Layer layer)
    {
        switch (layer)
        {
            case Layer.Held:
                return ref Held;
            case Layer.Queued:
                return ref Queued;
            default:
                return ref Blocked;
        }
    }

    public bool IsUnused
        => Holders.Count == 0 && Waiters.Count == 0 && Resource is null && Drain is null && DrainedBelow == 0 && (Children is null || Children.Count == 0)
           && Held.IsEmpty && Queued.IsEmpty && Blocked.IsEmpty;

    public LockNode? Child(string segment)
        => Children is not null && Children.TryGetValue(segment, out var child) ? child : null;
}

namespace Leasehold.Core;

/// <summary>One path in the resource tree. Nodes exist while something holds, waits on or lies below them.</summary>
internal sealed class LockNode
{
    public string Segment = "";
    public LockNode? Parent;
    public Dictionary<string, LockNode>? Children;

    public ClaimCounts Held;
    public ClaimCounts Queued;

    /// <summary>Leases holding exactly this path, in grant order.</summary>
    public readonly HolderList Holders = new();

    /// <summary>
    /// The queue index of this node, created when a waiter first claims the path or one below it: the
    /// waiters claiming exactly this path by mode and lockChildren (<see cref="ExactRun"/>), and those
    /// claiming a path strictly below it by mode and lockParents (<see cref="BelowRun"/>), each oldest
    /// first. The <see cref="Queued"/> counters say whether a kind has any waiter; these runs say which
    /// is the oldest, which a queue pass needs to tell an older waiter from a younger one in O(1).
    /// </summary>
    public WaiterRun?[]? Runs;

    /// <summary>
    /// Exclusive waiters claiming exactly this path, by semaphore limit (created with the first one). A grant
    /// here makes every exclusive waiter with another limit fail (limit-mismatch), however far back it
    /// queues; this says at once whether there is any.
    /// </summary>
    public Dictionary<int, int>? WaitLimits;

    /// <summary>The resource declared at this path, if any.</summary>
    public Pools.DeclaredResource? Resource;

    /// <summary>The drain on exactly this path, if it is drained.</summary>
    public Drain? Drain;

    /// <summary>How many drained paths lie strictly below this node: a claim here that locks its children is kept off.</summary>
    public int DrainedBelow;

    public ref ClaimCounts Counts(Layer layer)
    {
        if (layer == Layer.Held)
        {
            return ref Held;
        }
        return ref Queued;
    }

    public bool IsUnused
        => Holders.Count == 0 && Resource is null && Drain is null && DrainedBelow == 0 && (Children is null || Children.Count == 0)
           && Held.IsEmpty && Queued.IsEmpty;

    public static int ExactRun(LockMode mode, bool lockChildren) => ((int)mode * 2) + (lockChildren ? 1 : 0);

    public static int BelowRun(LockMode mode, bool lockParents) => 4 + ((int)mode * 2) + (lockParents ? 1 : 0);

    /// <summary>The run in slot <paramref name="slot"/>, created if missing.</summary>
    public WaiterRun Run(int slot)
    {
        Runs ??= new WaiterRun?[8];
        return Runs[slot] ??= new WaiterRun();
    }

    /// <summary>The oldest live waiter's id in slot <paramref name="slot"/>, or <see cref="long.MaxValue"/>.</summary>
    public long MinId(int slot) => Runs?[slot]?.MinId ?? long.MaxValue;

    /// <summary>The waiters claiming exactly this path, oldest first (a merge of the four exact runs; for reads).</summary>
    public List<Waiter> Waiters
    {
        get
        {
            var found = new List<Waiter>();
            if (Runs is null)
            {
                return found;
            }
            for (var slot = 0; slot < 4; slot++)
            {
                if (Runs[slot] is { Live: > 0 } run)
                {
                    foreach (var entry in run.Entries)
                    {
                        if (entry.IsLive)
                        {
                            found.Add(entry.Waiter);
                        }
                    }
                }
            }
            found.Sort(static (a, b) => a.Id.CompareTo(b.Id));
            return found;
        }
    }

    public LockNode? Child(string segment)
        => Children is not null && Children.TryGetValue(segment, out var child) ? child : null;
}

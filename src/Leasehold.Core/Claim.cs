using Leasehold.Core.Pools;

namespace Leasehold.Core;

/// <summary>
/// What one request asks for, shared by leases (granted) and waiters (queued): the paths, the mode,
/// the semaphore limit and the hierarchy flags. Conflicts are decided on these fields alone.
/// </summary>
public abstract class Claim : ITimed
{
    private int _deadlineSlot;

    int ITimed.DeadlineSlot { get => _deadlineSlot; set => _deadlineSlot = value; }

    /// <summary>
    /// The paths held (a lease) or wanted (a waiter). A pool waiter wants any of its candidates, so its
    /// paths are all of them, and they change when resources are declared or removed.
    /// </summary>
    public required ResourcePath[] Paths { get; set; }

    /// <summary>For a pool request: its requirement groups (for a lease, with the resources chosen); otherwise null.</summary>
    public GroupClaim[]? Groups { get; init; }

    public LockMode Mode { get; init; }

    /// <summary>The semaphore size: how many exclusive holders a path allows at once (1 for a plain lock, 0 for shared).</summary>
    public int Limit { get; init; }

    /// <summary>While held, no new lock may be taken on an ancestor of the paths.</summary>
    public bool LockParents { get; init; } = true;

    /// <summary>While held, no new lock may be taken on a descendant of the paths.</summary>
    public bool LockChildren { get; init; } = true;

    public string? Owner { get; init; }

    /// <summary>The authenticated principal that asked (null: anonymous).</summary>
    public string? Principal { get; init; }

    /// <summary>The session the claim is bound to, or 0.</summary>
    public long SessionId { get; init; }

    /// <summary>The requested time to live in milliseconds, or 0 for none.</summary>
    public long TtlMs { get; set; }
}

/// <summary>A granted lease. The engine owns and changes it: read it only on the writer (hosts map it to a DTO there).</summary>
public sealed class Lease : Claim
{
    public long Id { get; init; }

    public UInt128 Token { get; init; }

    /// <summary>The fencing token: larger than every fencing token issued before.</summary>
    public long Fence { get; init; }

    /// <summary>Unix milliseconds of the grant.</summary>
    public long AcquiredAt { get; init; }

    /// <summary>How long the request waited in the queue before the grant, in milliseconds.</summary>
    public long WaitedMs { get; init; }

    /// <summary>Unix milliseconds when the lease expires, or <see cref="long.MaxValue"/> for never.</summary>
    public long ExpiresAt { get; set; } = long.MaxValue;

    /// <summary>Set when the lease ends: its entries in the holder lists of its paths are dead from then on.</summary>
    internal bool Ended { get; set; }

    // The engine's index by token hash: leases that share a token (name-derived ones) form a chain.
    internal Lease? PreviousSameToken { get; set; }

    internal Lease? NextSameToken { get; set; }
}

/// <summary>A request waiting in the queue.</summary>
public sealed class Waiter : Claim
{
    public long Id { get; init; }

    public UInt128 Token { get; init; }

    public long EnqueuedAt { get; init; }

    public long Deadline { get; init; }

    internal LinkedListNode<Waiter>? QueueNode { get; set; }

    /// <summary>
    /// Names the waiter's current claims in the queue index (<see cref="WaiterRun"/>): moved on when it
    /// leaves the queue or its claims move to other paths, which makes its older index entries stale.
    /// </summary>
    internal int IndexEpoch { get; set; }

    /// <summary>Set while the waiter is among the candidates of the next queue pass.</summary>
    internal bool Pending { get; set; }
}

/// <summary>A client session: leases bound to it end when it ends.</summary>
public sealed class Session : ITimed
{
    private int _deadlineSlot;

    int ITimed.DeadlineSlot { get => _deadlineSlot; set => _deadlineSlot = value; }

    public long Id { get; init; }

    public UInt128 Token { get; init; }

    public string? Owner { get; init; }

    /// <summary>The authenticated principal that opened it (null: anonymous).</summary>
    public string? Principal { get; init; }

    public long TtlMs { get; set; }

    public long ExpiresAt { get; set; }

    internal HashSet<long> LeaseIds { get; } = [];

    internal HashSet<long> WaiterIds { get; } = [];

    /// <summary>How many leases are bound to the session right now.</summary>
    public int LeaseCount => LeaseIds.Count;
}

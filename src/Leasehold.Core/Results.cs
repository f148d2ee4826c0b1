namespace Leasehold.Core;

/// <summary>
/// The outcome of an acquire: granted (<see cref="Lease"/>), queued (<see cref="Waiter"/>), or failed
/// (<see cref="Error"/>, with <see cref="Detail"/> for people). Expected outcomes are values, not exceptions.
/// </summary>
public readonly record struct AcquireResult(ErrorCode Error, Lease? Lease, Waiter? Waiter, string? Detail = null)
{
    public static AcquireResult Fail(ErrorCode error, string detail) => new(error, null, null, detail);
}

/// <summary>The outcome of a command on an existing lease or session.</summary>
public readonly record struct OperationResult<T>(ErrorCode Error, T? Value, string? Detail = null)
    where T : class
{
    public static OperationResult<T> Fail(ErrorCode error, string detail) => new(error, null, detail);
}

/// <summary>
/// Something that happened to a waiter while another command ran: granted (<see cref="Lease"/> set)
/// or failed (<see cref="Error"/> set). The host routes it to the waiting request.
/// </summary>
public readonly record struct WaiterOutcome(long WaiterId, ErrorCode Error, Lease? Lease);

/// <summary>What <see cref="Ended"/> names.</summary>
public enum EndedKind : byte
{
    Lease = 0,
    Session = 1,
}

/// <summary>
/// A lease or session that ended, and why: for a lease the history's reason; for a session
/// <see cref="Pools.EndReason.Released"/> (closed with its token), <see cref="Pools.EndReason.Expired"/> or
/// <see cref="Pools.EndReason.Revoked"/> (ended by an administrator). A session's leases follow it, each with
/// <see cref="Pools.EndReason.SessionEnded"/>.
/// </summary>
public readonly record struct Ended(EndedKind Kind, long Id, Pools.EndReason Reason);

/// <summary>The state of one path: its holders and its queue.</summary>
public sealed record ResourceState(ResourcePath Path, IReadOnlyList<Lease> Holders, IReadOnlyList<Waiter> Queue);

/// <summary>Leases above and below a path that block it, and requests queued above and below it.</summary>
public sealed record Surroundings(IReadOnlyList<Lease> Holders, IReadOnlyList<Waiter> Queue);

/// <summary>Whether a fencing token is current on a path, and the fencing tokens that are.</summary>
public sealed record FenceState(ResourcePath Path, long Fence, bool Current, IReadOnlyList<Lease> Holders);

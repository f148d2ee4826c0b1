using Leasehold.Core.Pools;

namespace Leasehold.Core;

/// <summary>
/// What a request asks for, as a value: built from an <see cref="AcquireLease"/> or from a queued
/// <see cref="Waiter"/> without allocating, so a granted acquire allocates only its lease.
/// </summary>
internal readonly record struct ClaimRequest(
    ResourcePath[] Paths,
    LockMode Mode,
    int Limit,
    bool LockParents,
    bool LockChildren,
    string? Owner,
    long SessionId,
    long TtlMs,
    UInt128 Token,
    long EnqueuedAt,
    long Deadline,
    GroupClaim[]? Groups = null,
    string? Principal = null)
{
    public static ClaimRequest From(Waiter waiter) => new(
        waiter.Paths, waiter.Mode, waiter.Limit, waiter.LockParents, waiter.LockChildren, waiter.Owner,
        waiter.SessionId, waiter.TtlMs, waiter.Token, waiter.EnqueuedAt, waiter.Deadline, waiter.Groups, waiter.Principal);
}

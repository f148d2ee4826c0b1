namespace Leasehold.Core.Pools;

/// <summary>Why a lease ended. The numbers are persisted: never renumber.</summary>
public enum EndReason : byte
{
    Released = 0,
    Expired = 1,
    SessionEnded = 2,

    /// <summary>An administrator revoked it (see <see cref="HistoryEntry.EndedBy"/>).</summary>
    Revoked = 3,
}

/// <summary>
/// A finished lease: who held what, chosen by which requirement, how long it queued and was held.
/// A value kept in a preallocated ring, so ending a lease allocates nothing for its history.
/// <see cref="Principal"/> is the authenticated caller that acquired it; <see cref="EndedBy"/> the
/// administrator who revoked it or ended its session (null when it ended on its own).
/// </summary>
public readonly record struct HistoryEntry(
    long LeaseId,
    long Fence,
    string? Owner,
    ResourcePath[] Paths,
    string[]? Requirements,
    long AcquiredAt,
    long QueuedMs,
    long EndedAt,
    EndReason Reason,
    string? Principal = null,
    string? EndedBy = null);

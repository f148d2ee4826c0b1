using Leasehold.Core.Pools;

namespace Leasehold.Core;

/// <summary>
/// Everything a snapshot must keep to rebuild an engine exactly: the id and fence counters, sessions,
/// leases and the queue in order, the drained prefixes, and the event revision. Captured by reference: serialize it before the next command runs.
/// </summary>
public sealed record EngineState(
    long LastLeaseId,
    long LastSessionId,
    long LastWaiterId,
    long LastFence,
    IReadOnlyList<Session> Sessions,
    IReadOnlyList<Lease> Leases,
    IReadOnlyList<Waiter> Waiters,
    long LastReleaseSeq = 0,
    IReadOnlyList<DeclaredResource>? Resources = null,
    IReadOnlyList<HistoryEntry>? History = null,
    IReadOnlyList<Drain>? Drains = null,
    long Revision = 0);

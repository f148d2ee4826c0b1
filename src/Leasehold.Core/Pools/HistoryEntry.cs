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
    string? EndedBy = null)
{
    /// <summary>
    /// About how many bytes the entry keeps alive (what <see cref="EngineLimits.HistoryBytes"/> counts): a fixed part,
    /// each path's text and segments, and its strings. Computed from the entry alone, the same on every node.
    /// </summary>
    public long Weight
    {
        get
        {
            long bytes = 128;
            foreach (var path in Paths ?? [])
            {
                // The path's text, its segments' texts (as long again), and an object header and reference each.
                bytes += 64 + (4L * path.Value.Length) + (32L * path.Depth);
            }
            foreach (var requirement in Requirements ?? [])
            {
                bytes += 32 + (2L * requirement.Length);
            }
            return bytes + Text(Owner) + Text(Principal) + Text(EndedBy);

            static long Text(string? text) => text is null ? 0 : 32 + (2L * text.Length);
        }
    }
}

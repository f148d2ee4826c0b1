using Leasehold.Core;

namespace Leasehold.Storage;

/// <summary>A snapshot file's bytes to a running engine, as start-up loads it.</summary>
public static class SnapshotLoader
{
    /// <summary>
    /// Reads <paramref name="data"/> with <see cref="SnapshotCodec.Read"/> and restores the engine from it. A snapshot
    /// whose checksum matches but whose contents contradict each other (a lease of a session it does not hold, an id
    /// given twice) cannot be restored either: that too is a <see cref="CorruptDataException"/> naming the file, not
    /// whatever the engine's tables would throw.
    /// </summary>
    public static (long Index, LockEngine Engine) Load(string file, ReadOnlySpan<byte> data, EngineLimits? limits)
    {
        var (index, state) = SnapshotCodec.Read(file, data);
        try
        {
            return (index, LockEngine.Restore(state, limits));
        }
        catch (Exception ex) when (ex is KeyNotFoundException or ArgumentException or InvalidOperationException)
        {
            throw new CorruptDataException(file, 0, "the snapshot's checksum matches but its contents are inconsistent: " + ex.Message);
        }
    }

    /// <summary>
    /// The latest time a restored snapshot records for certain (0 for none): grants, renewals and ends. A clock that
    /// continues from a snapshot never starts earlier than this, whatever the wall clock says. Sessions do not count:
    /// a restart or a new leader gives each at least the grace period, so a session's deadline less its ttl may lie
    /// after anything that happened, and a time line started there would end every lease early.
    /// </summary>
    public static long LatestTime(LockEngine engine)
    {
        var latest = 0L;
        foreach (var lease in engine.Leases)
        {
            latest = Math.Max(latest, lease.TtlMs > 0 ? lease.ExpiresAt - lease.TtlMs : lease.AcquiredAt);
        }
        foreach (var entry in engine.History)
        {
            latest = Math.Max(latest, entry.EndedAt);
        }
        return latest;
    }
}

namespace Leasehold.Server.Engine;

/// <summary>When a command counts as kept. See docs/storage.md.</summary>
public enum FlushPolicy
{
    /// <summary>Answer only after the log is fsynced (the default): nothing acknowledged is ever lost.</summary>
    Fsync,

    /// <summary>Answer after the write reaches the operating system; fsync every interval. A process crash loses nothing; a power cut loses up to one interval.</summary>
    Interval,

    /// <summary>Keep nothing on disk: a restart forgets everything.</summary>
    Memory,
}

/// <summary>Durability settings, taken from <see cref="LeaseholdOptions"/>.</summary>
public sealed record DurabilityOptions
{
    public FlushPolicy Policy { get; init; } = FlushPolicy.Fsync;

    public TimeSpan FsyncInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Log records between snapshots.</summary>
    public long SnapshotEvery { get; init; } = 100_000;

    /// <summary>After a restart every session lives at least this long, so its client can reconnect.</summary>
    public long SessionGraceMs { get; init; } = 15_000;
}

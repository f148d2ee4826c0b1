using System.ComponentModel;

namespace Leasehold.Server;

/// <summary>Settings under the <c>Leasehold</c> configuration section (docs/operations.md lists them).</summary>
public sealed class LeaseholdOptions
{
    public const string Section = "Leasehold";

    /// <summary>Where the server keeps its files; created at start-up. Relative to the working directory.</summary>
    [Description("where the server keeps its files, relative to the working directory; created at start-up")]
    public string DataDir { get; set; } = "data";

    /// <summary>The largest request body accepted, in bytes.</summary>
    [Description("the largest request body accepted, in bytes; larger ones get 413")]
    public long MaxRequestBytes { get; set; } = 64 * 1024;

    /// <summary><c>fsync</c> (default), <c>interval</c> or <c>memory</c>: see docs/storage.md.</summary>
    [Description("fsync, interval or memory (docs/storage.md)")]
    public Engine.FlushPolicy Durability { get; set; } = Engine.FlushPolicy.Fsync;

    /// <summary>For the <c>interval</c> policy: milliseconds between fsyncs.</summary>
    [Description("for the interval policy: milliseconds between fsyncs")]
    public int FsyncIntervalMs { get; set; } = 100;

    /// <summary>HTTP connections open at once; null: derived from the descriptor limit (docs/operations.md).</summary>
    [Description("HTTP connections open at once")]
    public int? MaxConnections { get; set; }

    /// <summary>How long an HTTP connection may sit idle between requests before it is closed.</summary>
    [Description("an HTTP connection idle this long between requests is closed")]
    public double KeepAliveSeconds { get; set; } = 120;

    /// <summary>
    /// Run request handling on the socket's own I/O thread instead of handing each read to the thread pool (Kestrel's
    /// <c>UnsafePreferInlineScheduling</c>): fewer thread switches per request, which is most of a small request's cost
    /// on a busy machine (docs/performance.md). Safe here because no handler blocks its thread.
    /// </summary>
    [Description("handle requests on the socket's I/O thread, without a hop to the thread pool")]
    public bool InlineScheduling { get; set; } = true;

    /// <summary>How long a client may take to send a request's headers before the connection is closed.</summary>
    [Description("a client must send a request's headers within this time")]
    public double RequestHeadersSeconds { get; set; } = 30;

    /// <summary>Finished leases kept for the history and utilization views.</summary>
    [Description("finished leases kept for the history and utilization views")]
    public int HistorySize { get; set; } = 10_000;

    /// <summary>Bytes those finished leases may take at most (roughly counted); the oldest are forgotten first.</summary>
    [Description("bytes the finished leases kept may take at most (roughly counted); the oldest go first")]
    public long HistoryBytes { get; set; } = 64L << 20;

    /// <summary>Log records between snapshots.</summary>
    [Description("log records between snapshots")]
    public long SnapshotEvery { get; set; } = 100_000;

    /// <summary>
    /// Start even though files the data directory's manifest lists are missing or emptied, from what is left
    /// (<c>--accept-data-loss</c>; docs/storage.md). Without it such a start is refused.
    /// </summary>
    [Description("start from what is left when files the manifest lists are missing (--accept-data-loss)")]
    public bool AcceptDataLoss { get; set; }

    /// <summary>After a restart, every session lives at least this many seconds so its client can reconnect.</summary>
    [Description("after a restart, every session lives at least this many seconds")]
    public double SessionGraceSeconds { get; set; } = 15;

    public Engine.DurabilityOptions ToDurability() => new()
    {
        Policy = Durability,
        FsyncInterval = TimeSpan.FromMilliseconds(FsyncIntervalMs),
        SnapshotEvery = SnapshotEvery,
        SessionGraceMs = (long)(SessionGraceSeconds * 1000),
    };
}

namespace Leasehold.Core;

/// <summary>Bounds on what one request may ask for. Every front-end gets the same answers.</summary>
public sealed record EngineLimits
{
    public int MaxPathsPerRequest { get; init; } = 64;

    public long MaxTtlMs { get; init; } = 366L * 24 * 3600 * 1000;

    public long MaxWaitMs { get; init; } = 24L * 3600 * 1000;

    public int MaxLimit { get; init; } = 1_000_000;

    public long MinSessionTtlMs { get; init; } = 1000;

    public long MaxSessionTtlMs { get; init; } = 24L * 3600 * 1000;

    public int MaxOwnerLength { get; init; } = 256;

    /// <summary>Finished leases kept for <c>GET /v1/history</c> and utilization; the oldest are forgotten first.</summary>
    public int HistorySize { get; init; } = 10_000;

    /// <summary>
    /// Bytes the finished leases kept may take at most (roughly counted: their paths, owners and requirements); the
    /// oldest are forgotten first. Without it, 10,000 leases of 64 paths of 32 long segments each would keep gigabytes.
    /// </summary>
    public long HistoryBytes { get; init; } = 64L << 20;
}

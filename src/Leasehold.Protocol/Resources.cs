using System.Text.Json;

namespace Leasehold.Protocol;

/// <summary>A request waiting in a path's queue.</summary>
public sealed record WaiterDto
{
    public long Id { get; init; }

    public string? Owner { get; init; }

    public required string Mode { get; init; }

    public required string[] Paths { get; init; }

    public DateTimeOffset Since { get; init; }

    /// <summary>Seconds waited so far.</summary>
    public double Waiting { get; init; }
}

/// <summary>Holders and queue of one path.</summary>
public sealed record ResourceDto
{
    public required string Path { get; init; }

    /// <summary>The attributes if the path is a declared resource, else null.</summary>
    public JsonElement? Attributes { get; init; }

    public required LeaseDto[] Holders { get; init; }

    public required WaiterDto[] Queue { get; init; }

    /// <summary>
    /// The drain this path lies at or under, if any: nothing new is granted on it until an administrator
    /// undrains it. Only in the answer for one path.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public DrainDto? Drained { get; init; }

    /// <summary>
    /// Leases on other paths that keep an exclusive request for this path waiting: on an ancestor with
    /// <c>lockChildren</c>, or on a descendant with <c>lockParents</c>. Only in the answer for one path
    /// (absent from listings); at most 100.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public LeaseDto[]? BlockedBy { get; init; }

    /// <summary>
    /// Requests queued on an ancestor or a descendant, oldest first: a new exclusive request for this
    /// path would wait behind them. Only in the answer for one path; at most 100.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public WaiterDto[]? QueuedAhead { get; init; }
}

/// <summary>Held paths under a prefix.</summary>
public sealed record ResourceListDto
{
    public required string Prefix { get; init; }

    public required ResourceDto[] Resources { get; init; }

    /// <summary>True when more paths are held than the listing's limit.</summary>
    public bool Truncated { get; init; }
}

/// <summary>Answer to a fencing check: is <c>fence</c> held on <c>path</c> right now?</summary>
public sealed record FenceDto
{
    public required string Path { get; init; }

    public long Fence { get; init; }

    public bool Current { get; init; }

    /// <summary>Fencing tokens of the leases holding the path now (on it, or on an ancestor that locks its children).</summary>
    public required long[] Fences { get; init; }
}

public sealed record HealthDto
{
    /// <summary><c>ok</c>, or <c>failing</c> with the reason in <c>detail</c>.</summary>
    public required string Status { get; init; }

    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Detail { get; init; }

    /// <summary>On a cluster node (readiness only): its role, term, leader, commit index and lag.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ClusterStatusDto? Cluster { get; init; }
}

/// <summary>Counters of a running server, for operators and benchmarks.</summary>
public sealed record StatsDto
{
    public int Leases { get; init; }

    public int Sessions { get; init; }

    public int Waiters { get; init; }

    public long LastFence { get; init; }

    /// <summary>Commands appended to the write-ahead log since start.</summary>
    public long LoggedCommands { get; init; }

    /// <summary>Log fsyncs since start; <c>loggedCommands</c> divided by this is the group-commit factor.</summary>
    public long Syncs { get; init; }

    public required string Durability { get; init; }

    /// <summary>Bytes the server process has allocated on the managed heap since start (the runtime's count): per request, a measure of its cost.</summary>
    public long AllocatedBytes { get; init; }
}

using System.Text.Json.Serialization;

namespace Leasehold.Protocol;

/// <summary>A cluster node's view of its cluster (<c>GET /v1/cluster</c>, and <c>/readyz</c> on a cluster node).</summary>
public sealed record ClusterStatusDto
{
    /// <summary>This node's Raft endpoint.</summary>
    public required string Node { get; init; }

    /// <summary><c>leader</c> (serving), <c>taking-over</c> (elected, not serving yet), <c>follower</c>, or <c>no-leader</c>.</summary>
    public required string Role { get; init; }

    /// <summary>The Raft term this node is in.</summary>
    public long Term { get; init; }

    /// <summary>The leader's Raft endpoint; null while none is known.</summary>
    public string? Leader { get; init; }

    /// <summary>The leader's HTTP URL, where followers forward requests; null while unknown.</summary>
    public string? LeaderUrl { get; init; }

    /// <summary>The last entry of the Raft log known committed here.</summary>
    public long CommitIndex { get; init; }

    /// <summary>The last entry applied to this node's state machine.</summary>
    public long AppliedIndex { get; init; }

    /// <summary>The last entry in this node's log (committed or not).</summary>
    public long LastIndex { get; init; }

    /// <summary>
    /// The leader's commit index as the leader answered this node just now (on the leader, its own); null when no leader
    /// is known or it did not answer within half a second.
    /// </summary>
    public long? LeaderCommitIndex { get; init; }

    /// <summary>
    /// How far this node's state is behind the leader's: <see cref="LeaderCommitIndex"/> - <see cref="AppliedIndex"/>
    /// (entries committed on the leader that this node has not received, or not applied yet); null when the leader's
    /// commit index is not known.
    /// </summary>
    public long? Lag { get; init; }

    public required ClusterMemberDto[] Members { get; init; }
}

/// <summary>One member as this node sees it.</summary>
public sealed record ClusterMemberDto
{
    public required string Endpoint { get; init; }

    /// <summary><c>available</c>, <c>unavailable</c> or <c>unknown</c>, as this node's last exchange with it left it.</summary>
    public required string Status { get; init; }

    public bool Leader { get; init; }

    /// <summary>This node itself.</summary>
    public bool Local { get; init; }
}

/// <summary>The body of <c>POST /v1/cluster/members</c>.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ClusterMemberRequest
{
    /// <summary>The new member's Raft endpoint, <c>host:port</c>; it must be running, started with the cluster's members.</summary>
    public string? Endpoint { get; init; }
}

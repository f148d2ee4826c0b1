using DotNext.Net.Cluster;
using Leasehold.Protocol;
using Leasehold.Server.Http;
using Leasehold.Server.Security;

namespace Leasehold.Server.Cluster;

/// <summary>
/// <c>GET /v1/cluster</c>: this node's view (answered by the node asked, never forwarded); <c>POST
/// /v1/cluster/members</c> and <c>DELETE /v1/cluster/members/{endpoint}</c>: membership changes through
/// DotNext's joint consensus, run by the leader (a follower forwards them).
/// </summary>
internal static class ClusterEndpoints
{
    public static void MapClusterEndpoints(this WebApplication app, RaftNode node)
    {
        app.MapGet("/v1/cluster", async (CancellationToken cancellationToken) =>
                Results.Json(await StatusAsync(node, cancellationToken).ConfigureAwait(false), ProtocolJsonContext.Default.ClusterStatusDto))
            .RequireRight(Right.Read)
            .WithTags("Cluster").WithName("GetCluster").Produces<ClusterStatusDto>()
            .WithSummary("This node's view of the cluster: role, term, leader, commit index, lag, members");
        app.MapPost("/v1/cluster/members", AddAsync)
            .WithMetadata(new JsonBody(typeof(ClusterMemberRequest), """{"endpoint": "10.0.0.4:7000"}"""))
            .RequireRight(Right.Admin)
            .WithTags("Cluster").WithName("AddClusterMember").Produces<ClusterStatusDto>()
            .WithSummary("Adds a member (a running node started with the cluster's members); the leader catches it up first");
        app.MapDelete("/v1/cluster/members/{endpoint}", RemoveAsync)
            .RequireRight(Right.Admin)
            .WithTags("Cluster").WithName("RemoveClusterMember").Produces<ClusterStatusDto>()
            .WithSummary("Removes a member from the cluster's configuration");

        async Task<IResult> AddAsync(HttpContext context, CancellationToken cancellationToken)
        {
            var (request, invalid) = await RequestReading.ReadJsonAsync(context.Request, ProtocolJsonContext.Default.ClusterMemberRequest, null).ConfigureAwait(false);
            if (invalid is not null)
            {
                return invalid;
            }
            var (endpoint, problem) = await EndPointAsync(request?.Endpoint, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }
            if (node.Cluster.Members.Any(m => m.EndPoint.Equals(endpoint)))
            {
                return Problems.Result(ErrorCodes.InvalidArgument, $"{endpoint} is a member already");
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            bool added;
            try
            {
                added = await node.Cluster.AddMemberAsync(endpoint, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                added = false;
            }
            if (added)
            {
                await MemberListSettledAsync(node, endpoint, member: true, cancellationToken).ConfigureAwait(false);
            }
            return added
                ? Results.Json(await StatusAsync(node, cancellationToken).ConfigureAwait(false), ProtocolJsonContext.Default.ClusterStatusDto)
                : Problems.Result(ErrorCodes.NoLeader, $"{endpoint} could not be added within 30 s (is it running and reachable? is a leader elected?)", retryAfterSeconds: 1);
        }

        async Task<IResult> RemoveAsync(string endpoint, CancellationToken cancellationToken)
        {
            var (address, problem) = await EndPointAsync(endpoint, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }
            if (!node.Cluster.Members.Any(m => m.EndPoint.Equals(address)))
            {
                return Problems.Result(ErrorCodes.NotFound, $"{address} is not a member");
            }
            var removed = await node.Cluster.RemoveMemberAsync(address, cancellationToken).ConfigureAwait(false);
            if (removed)
            {
                await MemberListSettledAsync(node, address, member: false, cancellationToken).ConfigureAwait(false);
            }
            return removed
                ? Results.Json(await StatusAsync(node, cancellationToken).ConfigureAwait(false), ProtocolJsonContext.Default.ClusterStatusDto)
                : Problems.Result(ErrorCodes.NoLeader, $"{address} could not be removed now; retry", retryAfterSeconds: 1);
        }
    }

    /// <summary>
    /// DotNext returns from a membership change once the new configuration is committed and applied, but updates
    /// the member list it reports a moment later: wait (briefly) until the list shows the change, so the answer
    /// does not still list a member just removed (or miss one just added).
    /// </summary>
    private static async Task MemberListSettledAsync(RaftNode node, System.Net.IPEndPoint endpoint, bool member, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (node.Cluster.Members.Any(m => endpoint.Equals(m.EndPoint)) != member && clock.Elapsed < MemberListSettleTime)
        {
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    private static readonly TimeSpan MemberListSettleTime = TimeSpan.FromSeconds(5);

    private static async Task<(System.Net.IPEndPoint EndPoint, IResult? Problem)> EndPointAsync(string? text, CancellationToken cancellationToken)
    {
        try
        {
            return (await ClusterOptions.ParseEndPointAsync(text ?? "", "endpoint", cancellationToken).ConfigureAwait(false), null);
        }
        catch (InvalidDataException ex)
        {
            return (null!, Problems.Result(ErrorCodes.InvalidArgument, ex.Message));
        }
    }

    public static async Task<ClusterStatusDto> StatusAsync(RaftNode node, CancellationToken cancellationToken)
    {
        var cluster = node.Cluster;
        var leader = cluster.Leader;
        var wal = node.Wal;
        // LeaderUrlAsync answers null, never throws, when the leader went away while asked.
        var leaderUrl = leader is { IsRemote: false } ? node.PublicUrl : await node.LeaderUrlAsync(cancellationToken).ConfigureAwait(false);
        var commit = wal.LastCommittedEntryIndex;
        var applied = wal.LastAppliedIndex;
        var serving = node.Serving;
        // A node that leads knows the leader's commit index only while it serves: elected and not taken over yet, or
        // left without a majority (its entries failed) before the library notices, another leader may be ahead of it.
        var leaderCommit = leader is { IsRemote: false }
            ? serving ? commit : null
            : await node.LeaderCommitAsync(commit, cancellationToken).ConfigureAwait(false);
        return new ClusterStatusDto
        {
            Node = node.LocalEndPoint.ToString(),
            Role = serving ? "leader" : leader is null ? "no-leader" : leader.IsRemote ? "follower" : "taking-over",
            Term = cluster.AuditTrail.Term,
            Leader = leader?.EndPoint.ToString(),
            LeaderUrl = leaderUrl,
            CommitIndex = commit,
            AppliedIndex = applied,
            LastIndex = wal.LastEntryIndex,
            LeaderCommitIndex = leaderCommit,
            Lag = leaderCommit is { } known ? Math.Max(0, known - applied) : null,
            Members = [.. cluster.Members.Select(m => new ClusterMemberDto
            {
                Endpoint = m.EndPoint.ToString() ?? "",
                Status = m.Status switch
                {
                    ClusterMemberStatus.Available => "available",
                    ClusterMemberStatus.Unavailable => "unavailable",
                    _ => "unknown",
                },
                Leader = leader is not null && m.EndPoint.Equals(leader.EndPoint),
                Local = !m.IsRemote,
            })],
        };
    }
}

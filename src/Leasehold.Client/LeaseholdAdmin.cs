using System.Globalization;
using System.Text;
using Leasehold.Protocol;

namespace Leasehold.Client;

/// <summary>
/// The administrators' side of a server (<c>/v1/admin</c>): end anyone's lease or session without its
/// token, drain and undrain prefixes, list every lease and session. Get it from <see cref="LeaseholdClient.Admin"/>.
/// Refusals throw <see cref="LeaseholdException"/> (<see cref="LeaseholdNotFoundException"/> for an unknown
/// lease, session or drain).
/// </summary>
/// <example>
/// <code>
/// await client.Admin.DrainAsync("/lab/rack-2");           // maintenance: nothing new is granted there
/// foreach (var lease in (await client.Admin.ListLeasesAsync(new LeaseFilter { Prefix = "/lab/rack-2" })).Leases)
/// {
///     await client.Admin.RevokeLeaseAsync(lease.Id);        // or let them run out
/// }
/// await client.Admin.UndrainAsync("/lab/rack-2");
/// </code>
/// </example>
public sealed class LeaseholdAdmin
{
    private readonly LeaseholdClient _client;

    internal LeaseholdAdmin(LeaseholdClient client) => _client = client;

    /// <summary>Ends a lease without its token; the history records it as revoked, by the caller.</summary>
    /// <returns>The lease as it was (without its token).</returns>
    /// <exception cref="LeaseholdNotFoundException">No such lease is held.</exception>
    public Task<LeaseDto> RevokeLeaseAsync(long id, CancellationToken cancellationToken = default)
        => _client.CallAsync(HttpMethod.Delete, $"v1/admin/leases/{id.ToString(CultureInfo.InvariantCulture)}", null, ProtocolJsonContext.Default.LeaseDto, cancellationToken);

    /// <summary>Ends a session without its token, as if it expired: its leases end, its waiting requests fail.</summary>
    /// <returns>The session as it was (without its token).</returns>
    /// <exception cref="LeaseholdNotFoundException">No such session is open.</exception>
    public Task<SessionDto> EndSessionAsync(long id, CancellationToken cancellationToken = default)
        => _client.CallAsync(HttpMethod.Delete, $"v1/admin/sessions/{id.ToString(CultureInfo.InvariantCulture)}", null, ProtocolJsonContext.Default.SessionDto, cancellationToken);

    /// <summary>
    /// Drains a prefix: nothing new is granted at or under it until <see cref="UndrainAsync"/>; leases already
    /// held run out or are released normally. Draining a drained prefix returns the existing drain.
    /// </summary>
    public Task<DrainDto> DrainAsync(string path, CancellationToken cancellationToken = default)
        => _client.CallAsync(HttpMethod.Put, "v1/admin/drains" + Requests.EncodePath(path), null, ProtocolJsonContext.Default.DrainDto, cancellationToken);

    /// <summary>Ends a drain; the requests waiting for it are granted in queue order.</summary>
    /// <exception cref="LeaseholdNotFoundException">The path itself is not drained.</exception>
    public Task<DrainDto> UndrainAsync(string path, CancellationToken cancellationToken = default)
        => _client.CallAsync(HttpMethod.Delete, "v1/admin/drains" + Requests.EncodePath(path), null, ProtocolJsonContext.Default.DrainDto, cancellationToken);

    /// <summary>Every drained prefix, by path.</summary>
    public async Task<IReadOnlyList<DrainDto>> ListDrainsAsync(CancellationToken cancellationToken = default)
        => (await _client.CallAsync(HttpMethod.Get, "v1/admin/drains", null, ProtocolJsonContext.Default.DrainListDto, cancellationToken).ConfigureAwait(false)).Drains;

    /// <summary>Every lease matching the filter (all when null), oldest first, without tokens.</summary>
    public Task<AdminLeaseListDto> ListLeasesAsync(LeaseFilter? filter = null, CancellationToken cancellationToken = default)
    {
        filter ??= new LeaseFilter();
        var query = new StringBuilder("v1/admin/leases?limit=").Append(filter.Limit.ToString(CultureInfo.InvariantCulture));
        Add(query, "owner", filter.Owner);
        Add(query, "principal", filter.Principal);
        Add(query, "prefix", filter.Prefix);
        Add(query, "minAgeMs", filter.OlderThan is { } age ? ((long)age.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) : null);
        return _client.CallAsync(HttpMethod.Get, query.ToString(), null, ProtocolJsonContext.Default.AdminLeaseListDto, cancellationToken);
    }

    /// <summary>Every session matching the filter (all when null), oldest first, without tokens. The filter's prefix and age do not apply.</summary>
    public Task<AdminSessionListDto> ListSessionsAsync(LeaseFilter? filter = null, CancellationToken cancellationToken = default)
    {
        filter ??= new LeaseFilter();
        var query = new StringBuilder("v1/admin/sessions?limit=").Append(filter.Limit.ToString(CultureInfo.InvariantCulture));
        Add(query, "owner", filter.Owner);
        Add(query, "principal", filter.Principal);
        return _client.CallAsync(HttpMethod.Get, query.ToString(), null, ProtocolJsonContext.Default.AdminSessionListDto, cancellationToken);
    }

    /// <summary>The view of the cluster of the node asked: role, term, leader, commit index, lag, members (docs/cluster.md).</summary>
    /// <exception cref="LeaseholdNotFoundException">The server is a single server, not a cluster node.</exception>
    public Task<ClusterStatusDto> ClusterStatusAsync(CancellationToken cancellationToken = default)
        => _client.CallAsync(HttpMethod.Get, "v1/cluster", null, ProtocolJsonContext.Default.ClusterStatusDto, cancellationToken);

    /// <summary>
    /// Adds a member to the cluster: <paramref name="endpoint"/> (<c>host:port</c>) is the Raft endpoint of a running
    /// node started with the cluster's members. The leader catches it up before it counts in the majority.
    /// </summary>
    /// <returns>The cluster as the node asked sees it afterwards.</returns>
    public Task<ClusterStatusDto> AddClusterMemberAsync(string endpoint, CancellationToken cancellationToken = default)
        => _client.CallAsync(HttpMethod.Post, "v1/cluster/members",
            System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new ClusterMemberRequest { Endpoint = endpoint }, ProtocolJsonContext.Default.ClusterMemberRequest),
            ProtocolJsonContext.Default.ClusterStatusDto, cancellationToken);

    /// <summary>Removes a member (its Raft endpoint, <c>host:port</c>) from the cluster's configuration.</summary>
    /// <exception cref="LeaseholdNotFoundException">It is not a member.</exception>
    public Task<ClusterStatusDto> RemoveClusterMemberAsync(string endpoint, CancellationToken cancellationToken = default)
        => _client.CallAsync(HttpMethod.Delete, "v1/cluster/members/" + Uri.EscapeDataString(endpoint), null, ProtocolJsonContext.Default.ClusterStatusDto, cancellationToken);

    private static void Add(StringBuilder query, string name, string? value)
    {
        if (value is not null)
        {
            query.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }
    }
}

/// <summary>Which leases (or sessions) an administrator's listing returns; every property left null matches all.</summary>
public sealed class LeaseFilter
{
    /// <summary>Only those with this owner.</summary>
    public string? Owner { get; init; }

    /// <summary>Only those made by this authenticated principal.</summary>
    public string? Principal { get; init; }

    /// <summary>Only leases with a path at or under this prefix.</summary>
    public string? Prefix { get; init; }

    /// <summary>Only leases granted at least this long ago.</summary>
    public TimeSpan? OlderThan { get; init; }

    /// <summary>At most this many (1 to 10000); the answer's <c>Truncated</c> says when more match.</summary>
    public int Limit { get; init; } = 1000;
}

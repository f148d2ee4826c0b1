using System.ComponentModel;
using System.Net;

namespace Leasehold.Server.Cluster;

/// <summary>
/// Settings of a cluster node (section <c>Leasehold:Cluster</c>, docs/cluster.md). Without <see cref="Node"/> the
/// server is a single server, as the README's start command runs it.
/// </summary>
public sealed class ClusterOptions
{
    public const string Section = "Leasehold:Cluster";

    /// <summary>This node's Raft endpoint, <c>host:port</c>, where the other nodes reach it. Setting it makes a cluster node.</summary>
    [Description("this node's Raft endpoint, host:port; setting it makes the server a cluster node (docs/cluster.md)")]
    public string? Node { get; set; }

    /// <summary>
    /// The Raft endpoints of the cluster's initial members, this node's included: the same list on every node
    /// (as etcd's <c>--initial-cluster</c>). Members added or removed later travel in the Raft log.
    /// </summary>
    [Description("the Raft endpoints of the cluster's initial members, this node included, the same on every node")]
    public List<string> Members { get; set; } = [];

    /// <summary>
    /// The URL at which the other nodes reach this node's HTTP API, to forward requests to it while it leads.
    /// Null: the first address it listens on.
    /// </summary>
    [Description("the URL the other nodes forward HTTP requests to while this node leads; none: the first of urls")]
    public string? PublicUrl { get; set; }

    /// <summary>The shortest election timeout in milliseconds; the longest is twice this. A leader's heartbeat is half of it (DotNext's default).</summary>
    [Description("the shortest Raft election timeout in ms (the longest is twice it)")]
    public int ElectionTimeoutMs { get; set; } = 400;

    /// <summary>
    /// How long a Raft request to another node may take before that node counts as unreachable. Two limits pull
    /// against each other (docs/operations.md): sending a snapshot to a node that lags must fit in it (a short
    /// timeout kept a wiped node from ever catching up); and a candidate counts its votes only once every member
    /// has answered or timed out, giving up at its election timeout, so at or above <see cref="ElectionTimeoutMs"/>
    /// a member that hangs with its connections open (a frozen leader) makes elections fail until they break.
    /// </summary>
    [Description("how long a Raft request to another node may take, in ms")]
    public int RequestTimeoutMs { get; set; } = 1000;

    /// <summary>
    /// How many Raft entries the leader keeps in flight at once: each drain of the writer's batches becomes an
    /// entry appended at once, and up to this many wait for their commit together (replication carries all that
    /// is appended); while the pipeline is full, batches gather into the next entry. Answers stay in log order.
    /// 1 waits for each entry's commit before forming the next.
    /// </summary>
    [Description("how many Raft entries the leader keeps waiting for their commit at once (1 to 1024); 1: one at a time")]
    public int MaxEntriesInFlight { get; set; } = 16;

    /// <summary>Start as the only member of a new cluster that others are added to (instead of <see cref="Members"/>).</summary>
    [Description("start a new cluster alone, to add members to later (instead of Members)")]
    public bool ColdStart { get; set; }

    [Description("this node's certificate (PEM) for mutual TLS between the nodes; with KeyFile and CaFile")]
    public string? CertFile { get; set; }

    [Description("the unencrypted private key (PEM) of CertFile")]
    public string? KeyFile { get; set; }

    [Description("the cluster's authority (PEM): a peer's certificate must chain to it")]
    public string? CaFile { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Node);

    /// <summary>The command-line short form of <see cref="Node"/>.</summary>
    public const string NodeFlag = "--cluster-node";

    /// <summary>The command-line short form of <see cref="Members"/>: one comma-separated list.</summary>
    public const string MembersFlag = "--cluster-members";

    /// <summary>Turns <c>--cluster-members a,b,c</c> (or <c>=a,b,c</c>) into the settings <c>Members:0..N</c>.</summary>
    public static string[] ExpandMembersFlag(string[] args)
    {
        var result = new List<string>(args.Length);
        for (var i = 0; i < args.Length; i++)
        {
            string? list = null;
            if (args[i] == MembersFlag)
            {
                list = i + 1 < args.Length ? args[++i] : throw new InvalidDataException($"{MembersFlag} needs a comma-separated list of host:port");
            }
            else if (args[i].StartsWith(MembersFlag + "=", StringComparison.Ordinal))
            {
                list = args[i][(MembersFlag.Length + 1)..];
            }
            if (list is null)
            {
                result.Add(args[i]);
                continue;
            }
            var members = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            for (var m = 0; m < members.Length; m++)
            {
                result.Add($"--{Section}:{nameof(Members)}:{m}={members[m]}");
            }
        }
        return [.. result];
    }

    /// <summary>Parses a <c>host:port</c> endpoint as settings give it (a host name is looked up once); the message names the setting.</summary>
    public static IPEndPoint ParseEndPoint(string text, string setting)
    {
        var (endpoint, host, port) = Split(text, setting);
        if (endpoint is not null)
        {
            return endpoint;
        }
        try
        {
            return Resolved(host!, port, setting, Dns.GetHostAddresses(host!));
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw LookupFailed(host!, setting, ex);
        }
    }

    /// <summary>
    /// <see cref="ParseEndPoint"/> for a request: a host name is looked up without blocking the thread, which may be
    /// the socket event thread that serves other connections.
    /// </summary>
    public static async Task<IPEndPoint> ParseEndPointAsync(string text, string setting, CancellationToken cancellationToken)
    {
        var (endpoint, host, port) = Split(text, setting);
        if (endpoint is not null)
        {
            return endpoint;
        }
        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(host!, cancellationToken).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw LookupFailed(host!, setting, ex);
        }
        return Resolved(host!, port, setting, addresses);
    }

    /// <summary>An address endpoint, or the host name and port to look up; anything else is refused.</summary>
    private static (IPEndPoint? EndPoint, string? Host, int Port) Split(string text, string setting)
    {
        text = text.Trim();
        if (IPEndPoint.TryParse(text, out var ip) && ip.Port > 0)
        {
            return (ip, null, 0);
        }
        var colon = text.LastIndexOf(':');
        if (colon > 0 && int.TryParse(text.AsSpan(colon + 1), out var port) && port is > 0 and <= 65535
            && Uri.CheckHostName(text[..colon]) is UriHostNameType.Dns)
        {
            return (null, text[..colon], port);
        }
        throw new InvalidDataException($"{setting}: '{text}' is not host:port (an address or a host name, and a port from 1 to 65535)");
    }

    /// <summary>The first address a host name's lookup gave; none is refused as such.</summary>
    private static IPEndPoint Resolved(string host, int port, string setting, IPAddress[] addresses)
        => addresses.Length > 0
            ? new IPEndPoint(addresses[0], port)
            : throw new InvalidDataException($"{setting}: the host name '{host}' has no address");

    private static InvalidDataException LookupFailed(string host, string setting, Exception ex)
        => new($"{setting}: cannot look up '{host}': {ex.Message}", ex);
}

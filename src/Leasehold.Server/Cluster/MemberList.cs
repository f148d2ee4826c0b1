using System.Net;
using DotNext.Buffers;
using DotNext.IO;
using DotNext.Net;
using DotNext.Net.Cluster.Consensus.Raft.Membership;

namespace Leasehold.Server.Cluster;

/// <summary>
/// The cluster's members as DotNext keeps them, in the node's data directory (<see cref="FileName"/> under
/// <c>raft/</c>): seeded from <see cref="ClusterOptions.Members"/> when the directory is new, then changed only
/// through Raft (a member added or removed reaches every node with the leader's heartbeats) and written here each
/// time, so a node restarted after a change starts from the cluster's membership, not from settings that may be
/// older. Endpoints are written in DotNext's own endpoint format.
/// </summary>
internal sealed class MemberList(string file) : PersistentClusterConfigurationStorage<EndPoint>(file)
{
    /// <summary>The file's name in the node's <c>raft</c> directory.</summary>
    public const string FileName = "members";

    protected override void Encode(EndPoint address, ref BufferWriterSlim<byte> output) => EndPointFormatter.WriteEndPoint(ref output, address);

    protected override EndPoint Decode(ref SequenceReader reader) => EndPointFormatter.ReadEndPoint(ref reader);

    /// <summary>
    /// The members this node starts with: those kept here, or, when none are (a new or wiped data directory),
    /// <paramref name="seed"/>, which are then kept.
    /// </summary>
    public async Task<IReadOnlyList<EndPoint>> LoadOrSeedAsync(IReadOnlyCollection<EndPoint> seed, CancellationToken cancellationToken)
    {
        var kept = await ((IClusterConfigurationStorage<EndPoint>)this).LoadConfigurationAsync(cancellationToken).ConfigureAwait(false);
        if (kept.Members.Count > 0 || seed.Count == 0)
        {
            return [.. kept.Members];
        }
        var seeded = kept;
        foreach (var member in seed)
        {
            seeded = seeded.Add(member);
        }
        // Version 0, as DotNext gives a cold start's first configuration: any change the leader sends is newer.
        if (seeded is not IDataTransferObject data || !await ((IClusterConfigurationStorage)this).SaveConfigurationAsync(data, 0L, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidDataException($"the member list {FileName} in the node's raft directory holds no member and cannot be seeded from the settings (left so by a crash during the node's first start?): delete it to start from Leasehold:Cluster:Members");
        }
        return [.. seeded.Members];
    }
}

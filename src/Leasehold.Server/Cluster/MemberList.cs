using System.Net;
using DotNext.Buffers;
using DotNext.Net;
using DotNext.Net.Cluster.Consensus.Raft.Membership;

namespace Leasehold.Server.Cluster;

/// <summary>
/// The cluster's members as DotNext keeps them: seeded at start from <see cref="ClusterOptions.Members"/>, then
/// changed only through the Raft log (a member added or removed reaches every node with the leader's
/// heartbeats). Endpoints are written in DotNext's own endpoint format.
/// </summary>
internal sealed class MemberList : InMemoryClusterConfigurationStorage<EndPoint>
{
    protected override void Encode(EndPoint address, ref BufferWriterSlim<byte> output) => EndPointFormatter.WriteEndPoint(ref output, address);

    protected override EndPoint Decode(ref SequenceReader reader) => EndPointFormatter.ReadEndPoint(ref reader);
}

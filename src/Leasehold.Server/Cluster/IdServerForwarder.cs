using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Leasehold.Server.Cluster;

/// <summary>
/// idserver's front-end on a follower: its clients speak a line protocol over UDP or TCP that no HTTP forwarder
/// carries, so the follower sends the request line to the leader's idserver TCP port (published in the leader's
/// member metadata) and relays the one reply line. idserver clients may therefore use any node.
/// </summary>
internal sealed class IdServerForwarder(RaftNode node)
{
    /// <summary>The member metadata key holding a node's idserver address, <c>host:port</c>.</summary>
    public const string EndPointMetadata = "leasehold-idserver";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>The leader's reply to <paramref name="request"/>, or null when no leader with an idserver front-end is known or it does not answer.</summary>
    public async Task<string?> ForwardAsync(ReadOnlySequence<byte> request)
    {
        if (await node.LeaderMetadataAsync(EndPointMetadata, CancellationToken.None).ConfigureAwait(false) is not { } text
            || !IPEndPoint.TryParse(text, out var endpoint))
        {
            return null;
        }
        using var deadline = new CancellationTokenSource(Timeout);
        try
        {
            using var client = new TcpClient(endpoint.AddressFamily) { NoDelay = true };
            await client.ConnectAsync(endpoint, deadline.Token).ConfigureAwait(false);
            var stream = client.GetStream();
            var line = new byte[request.Length + 1];
            request.CopyTo(line);
            line[^1] = (byte)'\n';
            await stream.WriteAsync(line, deadline.Token).ConfigureAwait(false);
            var reply = new MemoryStream();
            var buffer = new byte[512];
            while (true)
            {
                var read = await stream.ReadAsync(buffer, deadline.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    return null;
                }
                var end = Array.IndexOf(buffer, (byte)'\n', 0, read);
                reply.Write(buffer, 0, end < 0 ? read : end);
                if (end >= 0)
                {
                    return Encoding.ASCII.GetString(reply.GetBuffer(), 0, (int)reply.Length);
                }
                if (reply.Length > 64 * 1024)
                {
                    return null;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return null;
        }
    }
}

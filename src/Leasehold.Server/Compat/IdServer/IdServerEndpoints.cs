using System.Net;

namespace Leasehold.Server.Compat.IdServer;

/// <summary>
/// Where the idserver front-end listens once started: the actual ports, also when port 0 picked free ones
/// (the UDP and the TCP port then differ). Null before the start and after the stop.
/// </summary>
public sealed class IdServerEndpoints
{
    public IPEndPoint? Udp { get; private set; }

    public IPEndPoint? Tcp { get; private set; }

    internal void Set(IPEndPoint? udp, IPEndPoint? tcp)
    {
        Udp = udp;
        Tcp = tcp;
    }
}

using System.Net;
using System.Net.Sockets;

namespace Leasehold.Server.Tests;

/// <summary>
/// A loopback port free a moment ago, for a server started as a process (which cannot report a port 0
/// back the way an in-process server does).
/// </summary>
internal static class FreePorts
{
    public static int Next()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Leasehold.Core;
using Leasehold.Server.Pools;

namespace Leasehold.Server.Compat.IdServer;

/// <summary>
/// The checked <c>Leasehold:IdServer</c> settings: the id pool served (one of <c>Leasehold:Pools</c>),
/// and where to listen. <see cref="DualMode"/>: one IPv6 socket per transport that takes IPv4 too.
/// </summary>
public sealed record IdServerSettings(ResourcePath Pool, IPAddress Address, bool DualMode, int Port)
{
    public const string Section = "Leasehold:IdServer";

    /// <summary>The port of idserver's README, used when <c>Leasehold:IdServer:Port</c> is not set.</summary>
    public const int DefaultPort = 9777;

    public const string DefaultHost = "127.0.0.1";

    /// <summary>
    /// Reads the section. Not configured (no <c>Pool</c> and nothing else): true with null settings.
    /// Otherwise false with a message naming the setting when anything is wrong.
    /// </summary>
    public static bool TryRead(IConfiguration configuration, IReadOnlyList<PoolOptions> pools, out IdServerSettings? settings, out string error)
    {
        settings = null;
        error = "";
        var section = configuration.GetSection(Section);
        var poolText = section["Pool"];
        var portText = section["Port"];
        var hostText = section["Host"];
        if (string.IsNullOrWhiteSpace(poolText))
        {
            if (portText is null && hostText is null)
            {
                return true;
            }
            error = $"{Section}:Pool is required when {Section}:Port or :Host is set (the id pool the idserver front-end serves)";
            return false;
        }
        if (!ResourcePath.TryParse(poolText, out var pool, out var pathError))
        {
            error = $"{Section}:Pool '{poolText}': {pathError}";
            return false;
        }
        if (!pools.Any(p => ResourcePath.TryParse(p.Path, out var configured, out _) && configured.Equals(pool)))
        {
            error = $"{Section}:Pool '{poolText}' is not one of the configured pools (Leasehold:Pools:N:Path)";
            return false;
        }
        var port = DefaultPort;
        if (portText is not null
            && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > IPEndPoint.MaxPort))
        {
            error = $"{Section}:Port '{portText}' is not a port number from 0 to 65535 (0 picks a free port)";
            return false;
        }
        if (!TryParseHost(string.IsNullOrWhiteSpace(hostText) ? DefaultHost : hostText.Trim(), out var address, out var dualMode))
        {
            error = $"{Section}:Host '{hostText}' is not an IP address ('::' or '*' for every IPv4 and IPv6 address)";
            return false;
        }
        settings = new IdServerSettings(pool, address, dualMode, port);
        return true;
    }

    private static bool TryParseHost(string host, out IPAddress address, out bool dualMode)
    {
        dualMode = false;
        if (host is "*" or "::" or "[::]")
        {
            // Every address of both families: one IPv6 socket with IPV6_V6ONLY off; IPv4 alone where IPv6 is missing.
            dualMode = Socket.OSSupportsIPv6;
            address = dualMode ? IPAddress.IPv6Any : IPAddress.Any;
            return true;
        }
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        return IPAddress.TryParse(host, out address!);
    }

    /// <summary>Where the sockets bind.</summary>
    public IPEndPoint EndPoint => new(Address, Port);
}

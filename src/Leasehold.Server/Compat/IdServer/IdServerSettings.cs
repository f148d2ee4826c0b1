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
    /// <summary>Long enough for a client that renews every few minutes over one kept connection (idserver's
    /// <c>TcpIdClient</c> never reconnects); short enough that abandoned connections do not pile up.</summary>
    public const double DefaultIdleSeconds = 300;

    /// <summary>TCP connections open at once (<c>MaxConnections</c>); more are refused with an error line.</summary>
    public int MaxConnections { get; init; } = Connections.ConnectionBudget.IdServerDefault;

    /// <summary>How long a TCP connection may take to send its next complete line (<c>IdleSeconds</c>).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(DefaultIdleSeconds);

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
        var maxText = section["MaxConnections"];
        var maxConnections = Connections.ConnectionBudget.IdServerDefault;
        if (maxText is not null
            && (!int.TryParse(maxText, NumberStyles.None, CultureInfo.InvariantCulture, out maxConnections) || maxConnections < 1))
        {
            error = $"{Section}:MaxConnections '{maxText}' is not a positive number of connections";
            return false;
        }
        var idleText = section["IdleSeconds"];
        var idleSeconds = DefaultIdleSeconds;
        if (idleText is not null
            && (!double.TryParse(idleText, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out idleSeconds) || idleSeconds < 1 || idleSeconds > 86400))
        {
            error = $"{Section}:IdleSeconds '{idleText}' is not a number of seconds from 1 to 86400";
            return false;
        }
        settings = new IdServerSettings(pool, address, dualMode, port)
        {
            MaxConnections = maxConnections,
            IdleTimeout = TimeSpan.FromSeconds(idleSeconds),
        };
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

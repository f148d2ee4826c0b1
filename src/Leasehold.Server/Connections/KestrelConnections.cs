using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Leasehold.Server.Connections;

/// <summary>
/// Kestrel's connection limit and timeouts, set from <see cref="LeaseholdOptions"/> so that idle,
/// trickling or too many connections cannot take the descriptors the server needs (docs/operations.md).
/// </summary>
public static class KestrelConnections
{
    /// <summary>Kestrel's own minimum rate, chosen on purpose: a request body or a response that moves
    /// slower than this after the grace period is a stuck or hostile peer, and the connection is closed.
    /// Both rates count only while data is being read or written, so a long-poll <c>wait</c> (no data
    /// until the answer) is not affected.</summary>
    public static readonly MinDataRate MinDataRate = new(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));

    /// <summary>Checks the settings (a wrong one stops start-up naming it) and applies them to Kestrel.</summary>
    public static void ConfigureConnections(this IWebHostBuilder webHost, LeaseholdOptions options, int idServerConnections)
    {
        var maxConnections = options.MaxConnections ?? ConnectionBudget.HttpDefault(idServerConnections);
        if (maxConnections < 1)
        {
            throw new InvalidDataException($"{LeaseholdOptions.Section}:MaxConnections {maxConnections} is not a positive number of connections");
        }
        if (ConnectionBudget.DescriptorLimit is { } descriptors && maxConnections + (long)idServerConnections > descriptors - ConnectionBudget.MinimumReserve)
        {
            // Running out of descriptors aborts the process; better to refuse such settings at start-up.
            throw new InvalidDataException(
                $"{LeaseholdOptions.Section}:MaxConnections {maxConnections} and {Compat.IdServer.IdServerSettings.Section}:MaxConnections {idServerConnections} "
                + $"leave fewer than {ConnectionBudget.MinimumReserve} of the process's {descriptors} file descriptors for the server itself; lower them or raise the limit (ulimit -n)");
        }
        var keepAlive = Seconds(nameof(LeaseholdOptions.KeepAliveSeconds), options.KeepAliveSeconds);
        var headers = Seconds(nameof(LeaseholdOptions.RequestHeadersSeconds), options.RequestHeadersSeconds);
        webHost.ConfigureServices(services => services.AddHostedService(sp => new ConnectionLimitsLog(
            maxConnections, idServerConnections, sp.GetRequiredService<ILogger<ConnectionLimitsLog>>())));
        // HTTP's and the native port's sockets both (one transport).
        webHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = options.InlineScheduling);
        webHost.ConfigureKestrel(kestrel =>
        {
            var limits = kestrel.Limits;
            limits.MaxRequestBodySize = options.MaxRequestBytes;
            // Over the limit Kestrel accepts and closes at once, writing nothing: the descriptor is freed
            // straight away, which matters more under a flood than a polite answer.
            limits.MaxConcurrentConnections = maxConnections;
            // No route upgrades a connection (no WebSockets): none may escape the count above that way.
            limits.MaxConcurrentUpgradedConnections = 0;
            limits.KeepAliveTimeout = keepAlive;
            limits.RequestHeadersTimeout = headers;
            limits.MinRequestBodyDataRate = MinDataRate;
            limits.MinResponseDataRate = MinDataRate;
        });
    }

    private static TimeSpan Seconds(string name, double seconds)
    {
        // Kestrel's timer ticks once a second, so shorter values would not be honoured as written.
        if (!(seconds >= 1 && seconds <= 24 * 3600))
        {
            throw new InvalidDataException($"{LeaseholdOptions.Section}:{name} {seconds} is not a number of seconds from 1 to 86400");
        }
        return TimeSpan.FromSeconds(seconds);
    }
}

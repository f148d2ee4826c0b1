using System.Net.Sockets;

namespace Leasehold.Server.Compat.IdServer;

/// <summary>
/// Runs the idserver front-end: binds the UDP socket and the TCP listener at start (after the pools are
/// loaded, so the first request finds its ids), publishes the bound ports in <see cref="IdServerEndpoints"/>,
/// and stops both cleanly. Its own sockets rather than a Kestrel endpoint: listening in code through
/// Kestrel would override the configured HTTP URLs, and neither protocol is HTTP.
/// </summary>
internal sealed partial class IdServerService(
    IdServerSettings settings, IdServerProtocol protocol, IdServerEndpoints endpoints, Security.SecurityState security, IConfiguration configuration,
    ILogger<IdServerService> logger) : IHostedService, IAsyncDisposable
{
    private UdpFrontEnd? _udp;
    private TcpFrontEnd? _tcp;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Security.FrontEndPrincipal.TryResolve(configuration, security.Enabled, IdServerSettings.Section, "idserver", logger, out var principal))
        {
            return Task.CompletedTask;
        }
        protocol.Principal = principal;
        _udp = Listen("udp", () => UdpFrontEnd.Start(settings, protocol, logger));
        try
        {
            _tcp = Listen("tcp", () => TcpFrontEnd.Start(settings, protocol, logger));
        }
        catch
        {
            _ = _udp.DisposeAsync().AsTask();
            _udp = null;
            throw;
        }
        endpoints.Set(_udp.LocalEndPoint, _tcp.LocalEndPoint);
        LogListening(settings.Pool.Value, _udp.LocalEndPoint.ToString(), _tcp.LocalEndPoint.ToString());
        return Task.CompletedTask;
    }

    /// <summary>A port in use or an address not on this machine stops start-up with one line naming it.</summary>
    private T Listen<T>(string transport, Func<T> start)
    {
        try
        {
            return start();
        }
        catch (SocketException ex)
        {
            throw new IOException($"the idserver front-end cannot listen on {transport} {settings.EndPoint}: {ex.Message}", ex);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        endpoints.Set(null, null);
        var stops = new List<Task>();
        if (_udp is not null)
        {
            stops.Add(_udp.StopAsync(cancellationToken));
        }
        if (_tcp is not null)
        {
            stops.Add(_tcp.StopAsync(cancellationToken));
        }
        try
        {
            await Task.WhenAll(stops).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The host's stop deadline passed with requests still under way; the sockets close on dispose.
        }
        LogStopped();
    }

    public async ValueTask DisposeAsync()
    {
        if (_udp is not null)
        {
            await _udp.DisposeAsync().ConfigureAwait(false);
        }
        if (_tcp is not null)
        {
            await _tcp.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "idserver front-end for pool {Pool} listening on udp {Udp} and tcp {Tcp}")]
    private partial void LogListening(string pool, string udp, string tcp);

    [LoggerMessage(Level = LogLevel.Information, Message = "idserver front-end stopped")]
    private partial void LogStopped();
}

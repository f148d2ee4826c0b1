namespace Leasehold.Server.Connections;

/// <summary>Says at start-up which connection limits are in force, since the default depends on the machine.</summary>
internal sealed partial class ConnectionLimitsLog(int maxConnections, int idServerConnections, ILogger<ConnectionLimitsLog> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var descriptors = ConnectionBudget.DescriptorLimit is { } limit ? limit.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unknown";
        var idServer = idServerConnections > 0 ? idServerConnections.ToString(System.Globalization.CultureInfo.InvariantCulture) : "off";
        LogLimits(maxConnections, idServer, descriptors);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection limits: HTTP {Http}, idserver TCP {IdServer} (file descriptor limit {Descriptors})")]
    private partial void LogLimits(int http, string idServer, string descriptors);
}

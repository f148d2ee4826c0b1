using Leasehold.Server.Pools;

namespace Leasehold.Server.Compat.IdServer;

/// <summary>Registers the idserver front-end (UDP and line-JSON TCP) when <c>Leasehold:IdServer:Pool</c> is set.</summary>
public static class IdServerSetup
{
    /// <summary>
    /// Checks the settings now, so a wrong one stops start-up with its message (<see cref="InvalidDataException"/>,
    /// before the data directory is opened); registers nothing when the front-end is not configured.
    /// Returns the settings (null when off), whose connection limit the HTTP default leaves room for.
    /// </summary>
    public static IdServerSettings? AddIdServer(IServiceCollection services, IConfiguration configuration, IReadOnlyList<PoolOptions> pools)
    {
        if (!IdServerSettings.TryRead(configuration, pools, out var settings, out var error))
        {
            throw new InvalidDataException(error);
        }
        if (settings is null)
        {
            return null;
        }
        services.AddSingleton(settings);
        services.AddSingleton<IdServerEndpoints>();
        services.AddSingleton<IdServerProtocol>();
        services.AddHostedService<IdServerService>();
        return settings;
    }
}

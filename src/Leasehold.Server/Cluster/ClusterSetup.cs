using Leasehold.Core;
using Leasehold.Server.Engine;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Leasehold.Server.Cluster;

/// <summary>Registers a cluster node: the Raft node, the writer fed by its log, the forwarder, readiness.</summary>
internal static class ClusterSetup
{
    public static void AddCluster(WebApplicationBuilder builder, ClusterOptions options, string dataDir, DurabilityOptions durability,
        EngineLimits limits, Limits.LimitsOptions limitsOptions, System.Net.IPEndPoint? idServer)
    {
        var publicUrl = options.PublicUrl ?? FirstUrl(builder.Configuration["urls"] ?? LeaseholdApp.DefaultUrl);
        if (publicUrl is null || !Uri.TryCreate(publicUrl, UriKind.Absolute, out var uri) || uri.Port == 0)
        {
            throw new InvalidDataException($"a cluster node needs an HTTP address the others can forward to: set {ClusterOptions.Section}:PublicUrl, or listen on a fixed port (urls), not port 0");
        }
        var local = ClusterOptions.ParseEndPoint(options.Node!, ClusterOptions.Section + ":Node");
        var spread = !System.Net.IPAddress.IsLoopback(local.Address)
            || options.Members.Any(m => !System.Net.IPAddress.IsLoopback(ClusterOptions.ParseEndPoint(m, ClusterOptions.Section + ":Members").Address));
        if (!spread && options.PublicUrl is null && uri.Host is "0.0.0.0" or "[::]")
        {
            // Every member on this machine: forward over loopback.
            publicUrl = new UriBuilder(uri) { Host = "127.0.0.1" }.Uri.ToString().TrimEnd('/');
            uri = new Uri(publicUrl);
        }
        if (spread && options.PublicUrl is null && (uri.IsLoopback || uri.Host is "0.0.0.0" or "[::]"))
        {
            // Derived from a listen address the others cannot use: they would forward to themselves.
            throw new InvalidDataException($"the cluster's members are on other machines, but this node would tell them to forward to {publicUrl}: set {ClusterOptions.Section}:PublicUrl to an address they can reach");
        }
        if (options.ElectionTimeoutMs is < 50 or > 60_000)
        {
            throw new InvalidDataException($"{ClusterOptions.Section}:ElectionTimeoutMs must be from 50 to 60000");
        }
        if (options.RequestTimeoutMs is < 50 or > 600_000)
        {
            throw new InvalidDataException($"{ClusterOptions.Section}:RequestTimeoutMs must be from 50 to 600000");
        }
        if (options.MaxEntriesInFlight is < 1 or > 1024)
        {
            throw new InvalidDataException($"{ClusterOptions.Section}:{nameof(ClusterOptions.MaxEntriesInFlight)} must be from 1 to 1024");
        }
        var tls = ClusterTls.Load(options, builder.Configuration[Tls.TlsOptions.Section + ":" + nameof(Tls.TlsOptions.ClientCaFile)]);
        if (tls is null && spread
            && !builder.Configuration.GetValue<bool>($"{Security.SecurityOptions.Section}:{nameof(Security.SecurityOptions.Open)}"))
        {
            // The Raft port decides who holds what: off loopback, only members may speak on it.
            throw new InvalidDataException($"a cluster beyond loopback needs mutual TLS between its nodes ({ClusterOptions.Section}:CertFile, KeyFile, CaFile; docs/cluster.md), or --open on a network only the nodes reach");
        }
        builder.Services.AddSingleton(new ForwardingTrust(tls));
        builder.Services.AddHttpForwarder();
        builder.Services.AddSingleton(sp =>
        {
            var node = new RaftNode(options, dataDir, durability, limits, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>(), tls)
            {
                PublicUrl = publicUrl,
            };
            var urls = (builder.Configuration["urls"] ?? LeaseholdApp.DefaultUrl).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (Native.NativeListener.PortFor(sp.GetRequiredService<Native.NativeOptions>(), urls) is { } nativePort and > 0)
            {
                // A follower's no-leader names the leader's native URL: the host the others reach this node's HTTP
                // at, its native port (a free port, 0, is known only once listening: then none is published).
                var scheme = sp.GetService<Tls.NativeTls>() is null ? "leasehold" : "leaseholds";
                node.Metadata[Native.NativeListener.EndPointMetadata] = $"{scheme}://{uri.Host}:{nativePort}";
            }
            if (idServer is { Port: > 0 })
            {
                // Followers forward idserver's lines here while this node leads: an address they can reach.
                var address = idServer.Address.Equals(System.Net.IPAddress.Any) || idServer.Address.Equals(System.Net.IPAddress.IPv6Any)
                    ? System.Net.IPAddress.TryParse(uri.Host, out var host) ? host : System.Net.IPAddress.Loopback
                    : idServer.Address;
                node.Metadata[IdServerForwarder.EndPointMetadata] = new System.Net.IPEndPoint(address, idServer.Port).ToString();
            }
            return node;
        });
        builder.Services.AddSingleton(sp => new IdServerForwarder(sp.GetRequiredService<RaftNode>()));
        builder.Services.AddSingleton(sp =>
        {
            var node = sp.GetRequiredService<RaftNode>();
            var host = new EngineHost(node.Log, durability, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<EngineHost>>(),
                sp.GetRequiredService<Events.EventHub>())
            {
                Quotas = new Limits.Quotas(limitsOptions),
                Metrics = sp.GetRequiredService<Metrics.LeaseholdMetrics>(),
            };
            node.Host = host;
            return host;
        });
        // The writer first (it must exist when leadership arrives), then the node.
        builder.Services.AddHostedService(sp =>
        {
            _ = sp.GetRequiredService<EngineHost>();
            return sp.GetRequiredService<RaftNode>();
        });
        builder.Services.AddHealthChecks().AddCheck<LeaderCheck>("cluster", tags: ["ready"]);
    }

    /// <summary>The cluster's TLS, if any, for the forwarder's connections to an https leader.</summary>
    internal sealed record ForwardingTrust(ClusterTls? Tls);

    private static string? FirstUrl(string urls)
        => urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()
            ?.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);

    /// <summary>Ready when a leader is elected and, if it is this node, it has taken over.</summary>
    private sealed class LeaderCheck(RaftNode node) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var leader = node.Cluster.Leader;
            return Task.FromResult(node.Failure is { } failure ? HealthCheckResult.Unhealthy($"this node stopped taking part: {failure.Message}")
                : leader is null ? HealthCheckResult.Unhealthy("no cluster leader is elected")
                : !leader.IsRemote && !node.Serving ? HealthCheckResult.Unhealthy("this node was elected leader and is taking over")
                : HealthCheckResult.Healthy());
        }
    }
}

using Leasehold.Core;
using Leasehold.Server.Engine;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Leasehold.Server.Cluster;

/// <summary>Registers a cluster node: the Raft node, the writer fed by its log, the forwarder, readiness.</summary>
internal static class ClusterSetup
{
    public static void AddCluster(WebApplicationBuilder builder, ClusterOptions options, string dataDir, DurabilityOptions durability,
        EngineLimits limits, Limits.LimitsOptions limitsOptions)
    {
        var publicUrl = options.PublicUrl ?? FirstUrl(builder.Configuration["urls"] ?? LeaseholdApp.DefaultUrl);
        if (publicUrl is null || !Uri.TryCreate(publicUrl, UriKind.Absolute, out var uri) || uri.Port == 0)
        {
            throw new InvalidDataException($"a cluster node needs an HTTP address the others can forward to: set {ClusterOptions.Section}:PublicUrl, or listen on a fixed port (urls), not port 0");
        }
        if (options.ElectionTimeoutMs is < 50 or > 60_000)
        {
            throw new InvalidDataException($"{ClusterOptions.Section}:ElectionTimeoutMs must be from 50 to 60000");
        }
        builder.Services.AddHttpForwarder();
        builder.Services.AddSingleton(sp =>
        {
            var node = new RaftNode(options, dataDir, durability, limits, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>())
            {
                PublicUrl = publicUrl,
            };
            return node;
        });
        builder.Services.AddSingleton(sp =>
        {
            var node = sp.GetRequiredService<RaftNode>();
            var host = new EngineHost(node.Log, durability, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<EngineHost>>())
            {
                Quotas = new Limits.Quotas(limitsOptions),
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

    private static string? FirstUrl(string urls)
        => urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()
            ?.Replace("://*", "://127.0.0.1", StringComparison.Ordinal).Replace("://+", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal);

    /// <summary>Ready when a leader is elected and, if it is this node, it has taken over.</summary>
    private sealed class LeaderCheck(RaftNode node) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var leader = node.Cluster.Leader;
            return Task.FromResult(leader is null ? HealthCheckResult.Unhealthy("no cluster leader is elected")
                : !leader.IsRemote && !node.Serving ? HealthCheckResult.Unhealthy("this node was elected leader and is taking over")
                : HealthCheckResult.Healthy());
        }
    }
}

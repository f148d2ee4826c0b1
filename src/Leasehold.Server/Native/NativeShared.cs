using System.Security.Claims;
using System.Threading.RateLimiting;
using Leasehold.Server.Cluster;
using Leasehold.Server.Engine;
using Leasehold.Server.Security;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Leasehold.Server.Native;

/// <summary>What every native connection shares: settings, the engine, the HTTP pipeline for CALL, the limits.</summary>
internal sealed class NativeShared(
    NativeOptions options,
    LeaseholdOptions server,
    EngineHost host,
    HttpPipeline pipeline,
    IServiceProvider services,
    ILogger<NativeConnection> logger)
{
    public NativeOptions Options { get; } = options;

    public EngineHost Host { get; } = host;

    public HttpPipeline Pipeline { get; } = pipeline;

    public IServiceProvider Services { get; } = services;

    public ILogger Logger { get; } = logger;

    public long MaxRequestBytes { get; } = server.MaxRequestBytes;

    public uint IdleMs { get; } = (uint)(server.KeepAliveSeconds * 1000);

    public TimeSpan Idle { get; } = TimeSpan.FromSeconds(server.KeepAliveSeconds);

    public bool SecurityOn { get; } = services.GetRequiredService<SecurityState>().Enabled;

    /// <summary>HTTP's request limiter (per principal, or per address for anonymous callers), shared so both front-ends count together; null when none is set.</summary>
    public PartitionedRateLimiter<HttpContext>? Limiter { get; } = Limits.RateLimits.Any(
        services.GetRequiredService<Limits.LimitsOptions>(), services.GetRequiredService<SecurityState>().Enabled)
        ? services.GetRequiredService<IOptions<RateLimiterOptions>>().Value.GlobalLimiter
        : null;

    public RaftNode? Node { get; } = services.GetService<RaftNode>();

    /// <summary>Where messages received and errors sent are counted.</summary>
    public Metrics.LeaseholdMetrics Metrics { get; } = services.GetRequiredService<Metrics.LeaseholdMetrics>();

    private readonly CancellationTokenSource _stopping = new();

    private CancellationTokenSource _credentials = new();

    /// <summary>
    /// Cancelled when the security settings change (keys added, removed or rotated; rules): connections that presented a
    /// credential close then, and their clients authenticate again on a new one.
    /// </summary>
    public CancellationToken CredentialsChanged => Volatile.Read(ref _credentials).Token;

    /// <summary>Called on a change of the security settings (the listener watches them): the connections checked before end.</summary>
    public void OnSecurityChanged()
    {
        var before = Interlocked.Exchange(ref _credentials, new CancellationTokenSource());
        before.Cancel();
    }

    private readonly Leadership _leadership = new(services.GetService<RaftNode>());

    /// <summary>Cancelled when this node stops leading: every connection open then closes, so its client reconnects to the new leader.</summary>
    public CancellationToken LeadershipEnded => _leadership.Token;

    /// <summary>The native port is closing (the server stops): every connection closes at once (a client reconnects elsewhere or later).</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Closes every connection (<see cref="Stopping"/>); the listener calls it before it stops.</summary>
    public void CloseAll() => _stopping.Cancel();

    /// <summary>A token per leadership: replaced each time the node stops leading, the connections open then holding the one cancelled.</summary>
    private sealed class Leadership
    {
        private CancellationTokenSource _current = new();

        public Leadership(RaftNode? node)
        {
            if (node is not null)
            {
                node.SteppedDown += () => Interlocked.Exchange(ref _current, new CancellationTokenSource()).Cancel();
            }
        }

        public CancellationToken Token => Volatile.Read(ref _current).Token;
    }

    public string ServerName { get; } = "leasehold/" + (typeof(NativeShared).Assembly.GetName().Version?.ToString(3) ?? "0");

    public static ClaimsPrincipal Anonymous { get; } = new(new ClaimsIdentity());
}

/// <summary>The application's HTTP pipeline, captured when it is built, so that CALL can run any route in process.</summary>
public sealed class HttpPipeline
{
    public RequestDelegate? Next { get; set; }
}

using System.ComponentModel;

namespace Leasehold.Server.Limits;

/// <summary>
/// Settings under <c>Leasehold:Limits</c>: how much one principal, and everybody together, may hold and ask.
/// The defaults are far above what an honest user needs; they bound memory (docs/security.md has the worst case
/// per limit). Anonymous callers count together per client address for requests, and together for holdings.
/// </summary>
public sealed class LimitsOptions
{
    public const string Section = LeaseholdOptions.Section + ":Limits";

    [Description("leases held at once, by everyone")]
    public int MaxLeases { get; set; } = 1_000_000;

    [Description("leases held at once by one principal")]
    public int MaxLeasesPerPrincipal { get; set; } = 100_000;

    [Description("sessions open at once, by everyone")]
    public int MaxSessions { get; set; } = 100_000;

    [Description("sessions open at once by one principal")]
    public int MaxSessionsPerPrincipal { get; set; } = 10_000;

    [Description("requests waiting in the queue, from everyone")]
    public int MaxWaiters { get; set; } = 100_000;

    [Description("requests waiting in the queue from one principal")]
    public int MaxWaitersPerPrincipal { get; set; } = 10_000;

    [Description("nodes of the path tree (one per distinct path prefix held, wanted or declared), the measure of their memory")]
    public int MaxPathNodes { get; set; } = 2_000_000;

    [Description("characters of all the paths one lock request names together (for a pool request: its pools and requirements)")]
    public int MaxPathCharsPerLease { get; set; } = 2048;

    [Description("HTTP requests in progress at once for one principal (a waiting acquire is one); 0: no limit")]
    public int? MaxPendingPerPrincipal { get; set; }

    [Description("HTTP requests per second for one principal (a token bucket; 0: no limit)")]
    public int? RequestsPerSecondPerPrincipal { get; set; }

    /// <summary>The request limits' defaults with security on. With it off (loopback, one trusted user) there is
    /// nobody to share fairly with, and the limiter's cost per request showed in the load figures
    /// (docs/performance.md), so by default they are off.</summary>
    public const int SecuredMaxPending = 10_000;

    public const int SecuredRequestsPerSecond = 50_000;

    /// <summary>What the request limits are, unless set: <see cref="SecuredMaxPending"/> and
    /// <see cref="SecuredRequestsPerSecond"/> with security on, none with it off.</summary>
    public (int MaxPending, int RequestsPerSecond) RequestLimits(bool securityOn) =>
        (MaxPendingPerPrincipal ?? (securityOn ? SecuredMaxPending : 0), RequestsPerSecondPerPrincipal ?? (securityOn ? SecuredRequestsPerSecond : 0));
}

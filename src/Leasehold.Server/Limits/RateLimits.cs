using System.Threading.RateLimiting;
using Leasehold.Protocol;
using Leasehold.Server.Http;
using Leasehold.Server.Security;

namespace Leasehold.Server.Limits;

/// <summary>
/// ASP.NET Core rate limiting, one partition per principal (per client address for anonymous callers): a token
/// bucket for requests per second and a concurrency limit for requests in progress. Health probes and the API
/// description are never limited. A refused request gets 429 <c>rate-limited</c> with Retry-After.
/// </summary>
public static class RateLimits
{
    public static void AddLeaseholdRateLimits(this IServiceCollection services, LimitsOptions options, bool securityOn)
    {
        var (maxPending, perSecond) = options.RequestLimits(securityOn);
        services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(context => Key(context) is { } key && perSecond > 0
                    ? RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = perSecond,
                        TokensPerPeriod = perSecond,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    })
                    : RateLimitPartition.GetNoLimiter("")),
                PartitionedRateLimiter.Create<HttpContext, string>(context => Key(context) is { } key && maxPending > 0
                    ? RateLimitPartition.GetConcurrencyLimiter(key, _ => new ConcurrencyLimiterOptions
                    {
                        PermitLimit = maxPending,
                        QueueLimit = 0,
                    })
                    : RateLimitPartition.GetNoLimiter("")));
            options.OnRejected = async (rejected, _) =>
            {
                var context = rejected.HttpContext;
                var retry = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : (TimeSpan?)null;
                var who = Caller.NameOf(context) ?? $"anonymous callers from {context.Connection.RemoteIpAddress}";
                Access.Audit(context).LogWarning("Rate limited {Who}: {Method} {Path}", who, context.Request.Method, context.Request.Path.Value);
                await Problems.WriteAsync(context, ErrorCodes.RateLimited,
                    retry is null
                        ? $"{who} has {maxPending} requests in progress, the limit (Leasehold:Limits:MaxPendingPerPrincipal)"
                        : $"{who} sent more than {perSecond} requests in a second (Leasehold:Limits:RequestsPerSecondPerPrincipal)",
                    retry is { } wait ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : null);
            };
        });
    }

    /// <summary>Whether any request limit is set (both 0: the middleware is left out).</summary>
    public static bool Any(LimitsOptions options, bool securityOn) => options.RequestLimits(securityOn) is ( > 0, _) or (_, > 0);

    /// <summary>The partition: the principal, or the client address for anonymous callers; null for routes never limited.</summary>
    private static string? Key(HttpContext context) =>
        CredentialCheck.IsPublic(context.Request.Path) ? null
        : Caller.NameOf(context) is { } name ? "principal:" + name
        : "address:" + context.Connection.RemoteIpAddress;
}

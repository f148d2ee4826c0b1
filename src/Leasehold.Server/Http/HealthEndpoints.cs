using Leasehold.Protocol;
using Leasehold.Server.Engine;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Leasehold.Server.Http;

/// <summary>
/// <c>/healthz</c> (alive: the writer loop runs) and <c>/readyz</c> (ready: recovered, the writer runs and
/// the log is writable), as ASP.NET Core health checks. Both answer 503 with the reason when failing, so a
/// server that can no longer change state is never reported healthy.
/// </summary>
public static class HealthEndpoints
{
    private const string Live = "live";
    private const string Ready = "ready";

    public static IServiceCollection AddLeaseholdHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<WriterCheck>("writer", tags: [Live, Ready])
            .AddCheck<LogCheck>("log", tags: [Ready]);
        return services;
    }

    public static void MapHealthEndpoints(this WebApplication app)
    {
        // GET (and HEAD) only, as every other read: another method is 405 like on any route.
        app.MapHealthChecks("/healthz", Options(Live)).WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]))
            .WithTags("Health").WithSummary("Liveness: the engine writer runs");
        app.MapHealthChecks("/readyz", Options(Ready)).WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]))
            .WithTags("Health").WithSummary("Readiness: recovered, the writer runs, the log is writable");
    }

    private static HealthCheckOptions Options(string tag) => new()
    {
        Predicate = check => check.Tags.Contains(tag),
        ResponseWriter = async (context, report) =>
        {
            var failing = report.Entries.Values.FirstOrDefault(e => e.Status != HealthStatus.Healthy);
            // A cluster node's readiness says where it stands: role, term, leader, commit index, lag; with security
            // on, only to callers who may read (GET /v1/cluster needs the same), since it names the members.
            var cluster = tag == Ready && context.RequestServices.GetService<Cluster.RaftNode>() is { } node
                && (!Security.Access.IsEnabled(context)
                    || (context.User.Identity?.IsAuthenticated == true && await Security.Access.CheckAsync(context, Security.Right.Read, Security.PathScope.Root) is null))
                ? await Cluster.ClusterEndpoints.StatusAsync(node, context.RequestAborted)
                : null;
            var dto = failing.Description is null
                ? new HealthDto { Status = "ok", Cluster = cluster }
                : new HealthDto { Status = "failing", Detail = failing.Description, Cluster = cluster };
            await context.Response.WriteAsJsonAsync(dto, ProtocolJsonContext.Default.HealthDto);
        },
    };

    private sealed class WriterCheck(EngineHost host) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
            => Task.FromResult(host.WriterFailure is { } failure
                ? HealthCheckResult.Unhealthy($"the engine writer stopped: {failure.Message}")
                : HealthCheckResult.Healthy());
    }

    private sealed class LogCheck(EngineHost host) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
            => Task.FromResult(host.StorageFailure is { } failure
                ? HealthCheckResult.Unhealthy($"the log could not be written: {failure.Message}")
                : HealthCheckResult.Healthy());
    }
}

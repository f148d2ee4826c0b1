using System.Diagnostics;
using Leasehold.Server.Http;

namespace Leasehold.Server.Metrics;

/// <summary>
/// Counts every HTTP request (and every native CALL, which runs the same pipeline) by its endpoint's route
/// template, method, status and problem code, and times it. A request that completes synchronously costs no
/// allocation here; one that completes later costs the await of this middleware, as every awaiting middleware does.
/// </summary>
internal static class RequestMetrics
{
    /// <summary>The route label of a request no endpoint matched (an unknown path: 404, or refused before routing).</summary>
    public const string Unmatched = "unmatched";

    public static void UseRequestMetrics(this IApplicationBuilder app, LeaseholdMetrics metrics)
        => app.Use(next => context =>
        {
            var start = Stopwatch.GetTimestamp();
            var task = next(context);
            if (task.IsCompletedSuccessfully)
            {
                Record(metrics, context, start);
                return Task.CompletedTask;
            }
            return AwaitedAsync(task, metrics, context, start);
        });

    private static async Task AwaitedAsync(Task task, LeaseholdMetrics metrics, HttpContext context, long start)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        finally
        {
            Record(metrics, context, start);
        }
    }

    private static void Record(LeaseholdMetrics metrics, HttpContext context, long start)
    {
        var status = context.Response.StatusCode;
        var route = context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } text } ? text : Unmatched;
        // Only an answer with an error status may carry a problem code (looking creates the request's Items).
        var code = status >= 400 ? Problems.AnsweredCode(context) : null;
        metrics.HttpRequest(route, context.Request.Method, status, code, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }
}

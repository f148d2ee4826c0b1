using Leasehold.Protocol;
using Microsoft.AspNetCore.Diagnostics;

namespace Leasehold.Server.Http;

/// <summary>Every failure outside an endpoint (unknown route, wrong method, a bug) still answers problem+json.</summary>
internal static class ErrorHandling
{
    public static void UseProblemResponses(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = context =>
            {
                var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
                return error switch
                {
                    BadHttpRequestException bad => Problems.WriteAsync(context, Problems.Code(bad), bad.Message),
                    Limits.QuotaExceededException quota => Problems.WriteAsync(context, quota.Code, quota.Message),
                    Engine.NotLeaderException notLeader => NoLeaderAsync(context, notLeader.Message),
                    _ => Problems.WriteAsync(context, ErrorCodes.Internal, "the server failed to handle the request; it is logged"),
                };
            },
            // A request the client framed badly is its fault, not the server's: no error-level stack trace.
            SuppressDiagnosticsCallback = context => context.Exception is BadHttpRequestException or Limits.QuotaExceededException or Engine.NotLeaderException,
        });
        app.UseStatusCodePages(context =>
        {
            var http = context.HttpContext;
            return http.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => Problems.WriteAsync(http, ErrorCodes.NotFound, $"no route {http.Request.Path}"),
                StatusCodes.Status405MethodNotAllowed => Problems.WriteAsync(http, ErrorCodes.MethodNotAllowed, $"{http.Request.Method} is not allowed on {http.Request.Path}"),
                _ => Task.CompletedTask,
            };
        });
    }

    /// <summary>503 <c>no-leader</c>, with the second after which a new leader is likely elected.</summary>
    public static Task NoLeaderAsync(HttpContext context, string detail)
    {
        return Problems.WriteAsync(context, ErrorCodes.NoLeader, detail, retryAfterSeconds: 1);
    }
}

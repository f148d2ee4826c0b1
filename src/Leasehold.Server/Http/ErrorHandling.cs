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
                return error is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                    ? Problems.WriteAsync(context, ErrorCodes.PayloadTooLarge, error.Message)
                    : Problems.WriteAsync(context, ErrorCodes.Internal, "the server failed to handle the request; it is logged");
            },
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
}

using Leasehold.Protocol;
using Leasehold.Server.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.IdentityModel.Tokens;

namespace Leasehold.Server.Security;

/// <summary>
/// Credentials that were sent but do not hold (an unknown, revoked or expired key; an expired or forged token)
/// get 401 <c>invalid-credentials</c> on every route but the health checks and the API description, rather than
/// being treated as anonymous: a client that believes it is someone must learn that it is not.
/// </summary>
public static class CredentialCheck
{
    public static void UseCredentialCheck(this WebApplication app)
    {
        // With security off nobody authenticates: skip the authentication middleware too (its work per request showed
        // in the load figures, docs/performance.md).
        if (!app.Services.GetRequiredService<SecurityState>().Enabled)
        {
            return;
        }
        app.UseAuthentication();
        app.Use(async (context, next) =>
        {
            var result = await context.AuthenticateAsync();
            if (result.Failure is { } failure && !IsPublic(context.Request.Path))
            {
                var reason = Describe(failure);
                Access.Audit(context).LogWarning("Refused credentials from {Remote}: {Reason}: {Method} {Path}",
                    context.Connection.RemoteIpAddress, reason, context.Request.Method, context.Request.Path.Value);
                context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
                await Problems.WriteAsync(context, ErrorCodes.InvalidCredentials, reason);
                return;
            }
            await next(context);
        });
    }

    /// <summary>Routes anyone may call: liveness and readiness probes, and the API description.</summary>
    public static bool IsPublic(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/openapi");

    private static string Describe(Exception failure) => failure switch
    {
        SecurityTokenExpiredException expired => $"the bearer token expired at {expired.Expires:u}",
        SecurityTokenNotYetValidException early => $"the bearer token is not valid before {early.NotBefore:u}",
        SecurityTokenInvalidAudienceException => "the bearer token is for another audience",
        SecurityTokenInvalidIssuerException => "the bearer token is from another issuer",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "the bearer token's signature does not verify",
        SecurityTokenException => "the bearer token is not valid",
        _ => failure.Message,
    };
}

using System.Security.Claims;

namespace Leasehold.Server.Security;

/// <summary>
/// The principal a compatibility front-end acts as when security is on. Locker, gocept.lockd and idserver clients
/// send no credentials, so each front-end runs as the principal its settings name (<c>Leasehold:Locker:Principal</c>,
/// <c>Leasehold:Lockd:Principal</c>, <c>Leasehold:IdServer:Principal</c>) and the rules decide what that one may
/// do; with no principal named the front-end is off. An HTTP front-end request that does authenticate acts as
/// its own principal instead.
/// </summary>
public static class FrontEndPrincipal
{
    public const string AuthenticationType = "FrontEnd";

    public static string KeyFor(string section) => section + ":Principal";

    /// <summary>
    /// Whether the front-end under <paramref name="section"/> is served, and as whom (null: as each request's
    /// own caller, security being off). Logs why a front-end is off.
    /// </summary>
    public static bool TryResolve(IConfiguration configuration, bool securityEnabled, string section, string frontEnd, ILogger logger, out ClaimsPrincipal? principal)
    {
        principal = null;
        if (!securityEnabled)
        {
            return true;
        }
        if (configuration[KeyFor(section)] is not { Length: > 0 } name)
        {
            logger.LogWarning("The {FrontEnd} front-end is off: security is on and {Key} names no principal for its clients, who send no credentials",
                frontEnd, KeyFor(section));
            return false;
        }
        principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], AuthenticationType, ClaimTypes.Name, ClaimTypes.Role));
        return true;
    }

    /// <summary>Runs each request of these endpoints as <paramref name="principal"/> unless it authenticated itself.</summary>
    public static TBuilder RunAs<TBuilder>(this TBuilder builder, ClaimsPrincipal? principal)
        where TBuilder : IEndpointConventionBuilder
    {
        if (principal is null)
        {
            return builder;
        }
        return builder.AddEndpointFilter(async (invocation, next) =>
        {
            if (Caller.NameOf(invocation.HttpContext) is null)
            {
                invocation.HttpContext.User = principal;
            }
            return await next(invocation);
        });
    }
}

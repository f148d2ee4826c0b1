using Leasehold.Server.Engine;
using Leasehold.Server.Security;

namespace Leasehold.Server.Http;

/// <summary>The access check of a request on one lease: the right on its paths, and whose lease it is.</summary>
internal static class LeaseAccess
{
    /// <summary>
    /// Null when allowed. Checks <paramref name="right"/> on the lease's paths (for an unknown lease: on any path,
    /// so a caller without credentials learns that first). With <paramref name="ownOnly"/>, a lease taken by
    /// another principal needs <see cref="Right.Admin"/> on its paths instead: <c>lock</c> covers one's own leases.
    /// A lease's paths and principal never change, so reading them before the command is safe.
    /// </summary>
    public static async ValueTask<IResult?> DenyAsync(HttpContext context, EngineHost host, long leaseId, Right right, bool ownOnly = false)
    {
        if (!Access.IsEnabled(context))
        {
            return null;
        }
        var (checkedRight, scope) = await ScopeAsync(host, leaseId, Caller.NameOf(context), right, ownOnly);
        return await Access.DenyAsync(context, checkedRight, scope);
    }

    /// <summary>The same check for any front-end: null when allowed, else the denial (logged to the audit trail).</summary>
    public static async ValueTask<Denial?> CheckAsync(IServiceProvider services, System.Security.Claims.ClaimsPrincipal user, EngineHost host,
        long leaseId, Right right, bool ownOnly, string method, string what)
    {
        if (!services.GetRequiredService<SecurityState>().Enabled)
        {
            return null;
        }
        var (checkedRight, scope) = await ScopeAsync(host, leaseId, Caller.NameOf(user), right, ownOnly);
        return await Access.CheckAsync(services, user, checkedRight, scope, method, what);
    }

    private static async ValueTask<(Right Right, PathScope Scope)> ScopeAsync(EngineHost host, long leaseId, string? caller, Right right, bool ownOnly)
    {
        var lease = await host.GetLeaseAccessAsync(leaseId);
        if (lease is not { } found)
        {
            return (right, PathScope.Anywhere);
        }
        var own = string.Equals(found.Principal, caller, StringComparison.Ordinal);
        return (ownOnly && !own ? Right.Admin : right, new PathScope(found.Paths));
    }
}

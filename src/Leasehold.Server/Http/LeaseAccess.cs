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
        var lease = await host.ExecuteAsync(w => w.Engine.GetLease(leaseId) is { } l ? (l.Paths, l.Principal) : default((Core.ResourcePath[] Paths, string? Principal)?));
        if (lease is not { } found)
        {
            return await Access.DenyAsync(context, right, PathScope.Anywhere);
        }
        var own = string.Equals(found.Principal, Caller.NameOf(context), StringComparison.Ordinal);
        return await Access.DenyAsync(context, ownOnly && !own ? Right.Admin : right, new PathScope(found.Paths));
    }
}

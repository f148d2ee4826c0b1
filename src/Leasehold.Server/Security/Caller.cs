using System.Security.Claims;

namespace Leasehold.Server.Security;

/// <summary>Who sent a request, as the engine records it (on leases, sessions and history entries).</summary>
public static class Caller
{
    /// <summary>
    /// The authenticated principal's name, or null for an anonymous caller (security off, or a route open to
    /// anonymous callers).
    /// </summary>
    public static string? NameOf(ClaimsPrincipal? user) =>
        user?.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name : null;

    public static string? NameOf(HttpContext context) => NameOf(context.User);
}

namespace Leasehold.Server.Security;

/// <summary>
/// What a principal may do under a path prefix (docs/security.md). Each right includes none of the others
/// except <see cref="Admin"/>, which includes them all.
/// </summary>
public enum Right
{
    /// <summary>See state, history and events.</summary>
    Read,

    /// <summary>Acquire, renew and release one's own leases; open and keep one's own sessions.</summary>
    Lock,

    /// <summary>Declare and remove resources, reload pools.</summary>
    Declare,

    /// <summary>Everything, and ending other principals' leases and sessions, draining prefixes, managing keys.</summary>
    Admin,
}

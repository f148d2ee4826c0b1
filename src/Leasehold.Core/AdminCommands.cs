namespace Leasehold.Core;

/// <summary>
/// An administrator ends a lease without its token (recorded in the history as revoked, with
/// <see cref="Actor"/>). The waiters it blocked are served as after a release.
/// </summary>
public sealed record RevokeLease : Command
{
    public long LeaseId { get; init; }

    /// <summary>The administrator's principal name; null when security is off (recorded as "anonymous").</summary>
    public string? Actor { get; init; }
}

/// <summary>An administrator ends a session without its token, as if it had expired; its leases' history names the actor.</summary>
public sealed record EndSession : Command
{
    public long SessionId { get; init; }

    /// <summary>The administrator's principal name; null when security is off (recorded as "anonymous").</summary>
    public string? Actor { get; init; }
}

/// <summary>
/// Takes a prefix out of service: no new lease is granted at or under it (or above it for a claim that locks
/// its children) until <see cref="UndrainPrefix"/>; leases already held run out or are released normally.
/// </summary>
public sealed record DrainPrefix : Command
{
    public required ResourcePath Path { get; init; }

    /// <summary>The administrator's principal name; null when security is off (recorded as "anonymous").</summary>
    public string? Actor { get; init; }
}

/// <summary>Ends a drain: the waiters it held back are served at once, in queue order.</summary>
public sealed record UndrainPrefix : Command
{
    public required ResourcePath Path { get; init; }

    /// <summary>The administrator's principal name; null when security is off.</summary>
    public string? Actor { get; init; }
}

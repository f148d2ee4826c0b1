namespace Leasehold.Protocol;

/// <summary>A drained prefix: nothing new is granted at or under it until it is undrained.</summary>
public sealed record DrainDto
{
    public required string Path { get; init; }

    /// <summary>The administrator who drained it (<c>anonymous</c> while security is off).</summary>
    public required string Actor { get; init; }

    public DateTimeOffset Since { get; init; }
}

/// <summary>Answer to <c>GET /v1/admin/drains</c>: every drained prefix, by path.</summary>
public sealed record DrainListDto
{
    public required DrainDto[] Drains { get; init; }
}

/// <summary>Answer to <c>GET /v1/admin/leases</c>: matching leases, oldest first, never with their tokens.</summary>
public sealed record AdminLeaseListDto
{
    public required LeaseDto[] Leases { get; init; }

    /// <summary>True when more leases match than the listing's limit.</summary>
    public bool Truncated { get; init; }
}

/// <summary>Answer to <c>GET /v1/admin/sessions</c>: matching sessions, oldest first, never with their tokens.</summary>
public sealed record AdminSessionListDto
{
    public required SessionDto[] Sessions { get; init; }

    /// <summary>True when more sessions match than the listing's limit.</summary>
    public bool Truncated { get; init; }
}

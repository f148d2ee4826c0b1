namespace Leasehold.Protocol;

/// <summary>Body of <c>POST /v1/leases</c>. Durations are in seconds.</summary>
public sealed record AcquireRequest
{
    public string? Path { get; init; }

    public string[]? Paths { get; init; }

    public string? Owner { get; init; }

    /// <summary><c>exclusive</c> (default) or <c>shared</c>.</summary>
    public string? Mode { get; init; }

    public int? Limit { get; init; }

    public double? Ttl { get; init; }

    public double? Wait { get; init; }

    public long? Session { get; init; }

    public bool? LockParents { get; init; }

    public bool? LockChildren { get; init; }
}

/// <summary>Body of <c>POST /v1/leases/{id}/renew</c> (optional).</summary>
public sealed record RenewRequest
{
    public double? Ttl { get; init; }
}

/// <summary>A lease. <see cref="Token"/> is present only in the reply to the acquire that granted it.</summary>
public sealed record LeaseDto
{
    public long Id { get; init; }

    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Token { get; init; }

    public string? Owner { get; init; }

    public required string Mode { get; init; }

    public required string[] Paths { get; init; }

    public int? Limit { get; init; }

    public double? Ttl { get; init; }

    public long Fence { get; init; }

    public DateTimeOffset AcquiredAt { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public long? Session { get; init; }

    public bool LockParents { get; init; }

    public bool LockChildren { get; init; }

    /// <summary>Seconds the request spent in the queue before it was granted.</summary>
    public double Waited { get; init; }
}

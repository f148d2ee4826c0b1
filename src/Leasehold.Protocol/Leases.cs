using System.Text.Json;
using System.Text.Json.Serialization;

namespace Leasehold.Protocol;

/// <summary>Body of <c>POST /v1/leases</c>. Durations are in seconds.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
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

    /// <summary>Instead of a path: choose <c>count</c> declared resources under this pool that match <c>require</c>.</summary>
    public string? Pool { get; init; }

    /// <summary>A MongoDB-style query object, or a <c>k=v&amp;k2=v2</c> string.</summary>
    public JsonElement? Require { get; init; }

    public int? Count { get; init; }

    /// <summary>Several requirement groups, allocated together (instead of pool, require, count).</summary>
    public GroupRequest[]? Groups { get; init; }

    /// <summary>With an owner: if that owner already holds a lease from the same pools, renew and return it.</summary>
    public bool? Reuse { get; init; }

    /// <summary>
    /// 16 to 128 characters of <c>A-Z a-z 0-9 _ -</c>, chosen by the client for one acquire and sent again with
    /// each retry of it: while the lease it got lives, a retry by the same principal gets that lease back
    /// (its token included) instead of a second one. Keep it as secret as a token.
    /// </summary>
    public string? IdempotencyKey { get; init; }
}

/// <summary>One requirement group of a pool request.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record GroupRequest
{
    public string? Pool { get; init; }

    public JsonElement? Require { get; init; }

    public int? Count { get; init; }
}

/// <summary>A resource a pool lease was given, with its attributes.</summary>
public sealed record ChosenResourceDto
{
    public required string Path { get; init; }

    /// <summary>The index of the requirement group it was chosen for.</summary>
    public int Group { get; init; }

    public JsonElement? Attributes { get; init; }
}

/// <summary>Body of <c>POST /v1/leases/{id}/renew</c> (optional).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record RenewRequest
{
    public double? Ttl { get; init; }
}

/// <summary>A lease. <c>token</c> is present only in the reply to the acquire that granted it.</summary>
public sealed record LeaseDto
{
    public long Id { get; init; }

    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Token { get; init; }

    public string? Owner { get; init; }

    /// <summary>The authenticated principal that acquired it; null for an anonymous caller (always, while security is off).</summary>
    public string? Principal { get; init; }

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

    /// <summary>For a pool lease: the resources chosen, per group, with their attributes.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ChosenResourceDto[]? Resources { get; init; }
}

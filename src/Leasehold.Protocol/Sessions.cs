using System.Text.Json.Serialization;

namespace Leasehold.Protocol;

/// <summary>Body of <c>POST /v1/sessions</c>. <c>ttl</c> in seconds.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record SessionRequest
{
    public double? Ttl { get; init; }

    public string? Owner { get; init; }
}

/// <summary>A session. <c>token</c> is present only in the reply that opened it.</summary>
public sealed record SessionDto
{
    public long Id { get; init; }

    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Token { get; init; }

    public string? Owner { get; init; }

    /// <summary>The authenticated principal that opened it; null for an anonymous caller.</summary>
    public string? Principal { get; init; }

    public double Ttl { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }

    /// <summary>How many leases are bound to the session.</summary>
    public int Leases { get; init; }
}

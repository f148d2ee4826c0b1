using System.Text.Json;

namespace Leasehold.Protocol;

/// <summary>A declared resource.</summary>
public sealed record DeclaredResourceDto
{
    public required string Path { get; init; }

    public JsonElement Attributes { get; init; }
}

/// <summary>One finished lease in <c>GET /v1/history</c>.</summary>
public sealed record HistoryEntryDto
{
    public long Lease { get; init; }

    public long Fence { get; init; }

    public string? Owner { get; init; }

    public required string[] Paths { get; init; }

    /// <summary>For a pool lease: the requirement of each group.</summary>
    public string[]? Requirements { get; init; }

    public DateTimeOffset AcquiredAt { get; init; }

    public DateTimeOffset EndedAt { get; init; }

    /// <summary>Seconds queued before the grant.</summary>
    public double Queued { get; init; }

    /// <summary>Seconds held.</summary>
    public double Held { get; init; }

    /// <summary><c>released</c>, <c>expired</c> or <c>session-ended</c>.</summary>
    public required string Reason { get; init; }

    /// <summary>The authenticated principal that acquired it; null for an anonymous caller.</summary>
    public string? Principal { get; init; }

    /// <summary>The administrator who revoked it or ended its session (<c>anonymous</c> while security is off); absent when it ended on its own.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? EndedBy { get; init; }
}

public sealed record HistoryDto
{
    public required HistoryEntryDto[] Entries { get; init; }
}

/// <summary>Share of time each declared resource was held over a window.</summary>
public sealed record UtilizationDto
{
    public required string Prefix { get; init; }

    public DateTimeOffset From { get; init; }

    public DateTimeOffset To { get; init; }

    public required ResourceUtilizationDto[] Resources { get; init; }
}

public sealed record ResourceUtilizationDto
{
    public required string Path { get; init; }

    /// <summary>Seconds held within the window.</summary>
    public double Held { get; init; }

    /// <summary>Held divided by the window, 0 to 1.</summary>
    public double Share { get; init; }
}

/// <summary>What a reload of the resource files did.</summary>
public sealed record ReloadDto
{
    public int Declared { get; init; }

    public int Updated { get; init; }

    public int Removed { get; init; }

    /// <summary>Resources gone from a file but held now: kept until released and a later reload.</summary>
    public required string[] Kept { get; init; }
}

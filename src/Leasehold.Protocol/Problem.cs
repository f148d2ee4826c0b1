using System.Text.Json.Serialization;

namespace Leasehold.Protocol;

/// <summary>
/// An RFC 9457 problem body (<c>application/problem+json</c>) with a stable <c>code</c>. A client reads it leniently,
/// like every answer: members it does not know (added by a later server) are skipped, unlike in request bodies.
/// </summary>
public sealed record ProblemDto
{
    public const string ContentType = "application/problem+json";

    public required string Type { get; init; }

    public required string Title { get; init; }

    public int Status { get; init; }

    public string? Detail { get; init; }

    public required string Code { get; init; }

    /// <summary>For <c>locked</c>: the leases that kept the request from being granted.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public LeaseDto[]? Holders { get; init; }

    /// <summary>
    /// With a <c>Retry-After</c> header (429, 503): the same number of seconds, for callers that see only the body
    /// (the native protocol's CALL, which carries no headers).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? RetryAfter { get; init; }
}

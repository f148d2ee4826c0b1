using System.Text.Json.Serialization;

namespace Leasehold.LoadGen;

/// <summary>The body of POST /v1/leases, as much of it as the load needs.</summary>
internal sealed record AcquireBody(string Path, double? Wait, int? Ttl);

/// <summary>The fields of a lease reply the load generator reads.</summary>
internal sealed record LeaseReply
{
    public long Id { get; init; }

    public string? Token { get; init; }

    public long Fence { get; init; }

    public double Waited { get; init; }
}

/// <summary>The counters of GET /v1/stats that explain group commit (optional: not every server has it).</summary>
internal sealed record StatsReply
{
    public long LoggedCommands { get; init; }

    public long Syncs { get; init; }

    public long AllocatedBytes { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AcquireBody))]
[JsonSerializable(typeof(LeaseReply))]
[JsonSerializable(typeof(StatsReply))]
internal sealed partial class LoadJsonContext : JsonSerializerContext;

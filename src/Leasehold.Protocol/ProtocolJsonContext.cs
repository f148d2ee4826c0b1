using System.Text.Json;
using System.Text.Json.Serialization;

namespace Leasehold.Protocol;

/// <summary>
/// Source-generated JSON for every wire type: no reflection. Requests are read strictly, answers leniently: every
/// <c>*Request</c> type refuses members it does not know (a misspelt <c>tll</c> is an error, not a lease without a
/// time to live), while every answer a client reads skips them, so a client keeps working against a later server
/// whose answers carry members added since (as etcd's and Consul's clients do).
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    NumberHandling = JsonNumberHandling.Strict,
    MaxDepth = ProtocolJsonContext.MaxDepth)]
[JsonSerializable(typeof(AcquireRequest))]
[JsonSerializable(typeof(RenewRequest))]
[JsonSerializable(typeof(LeaseDto))]
[JsonSerializable(typeof(ResourceDto))]
[JsonSerializable(typeof(ResourceListDto))]
[JsonSerializable(typeof(FenceDto))]
[JsonSerializable(typeof(SessionRequest))]
[JsonSerializable(typeof(SessionDto))]
[JsonSerializable(typeof(HealthDto))]
[JsonSerializable(typeof(StatsDto))]
[JsonSerializable(typeof(ClusterStatusDto))]
[JsonSerializable(typeof(ClusterMemberRequest))]
[JsonSerializable(typeof(WhoAmIDto))]
[JsonSerializable(typeof(DeclaredResourceDto))]
[JsonSerializable(typeof(HistoryDto))]
[JsonSerializable(typeof(UtilizationDto))]
[JsonSerializable(typeof(ReloadDto))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(ProblemDto))]
[JsonSerializable(typeof(DrainDto))]
[JsonSerializable(typeof(DrainListDto))]
[JsonSerializable(typeof(AdminLeaseListDto))]
[JsonSerializable(typeof(AdminSessionListDto))]
[JsonSerializable(typeof(EventDto))]
public sealed partial class ProtocolJsonContext : JsonSerializerContext
{
    /// <summary>
    /// Declared attributes may be nested 64 deep (the attribute parser's limit), and answers wrap them a few
    /// levels further (a list of resources, a resource, its holders): at the default 64 such an answer could not
    /// be written (a 500) or read by the client. Found by the fuzzing harness (docs/fuzzing.md).
    /// </summary>
    public const int MaxDepth = 128;
}

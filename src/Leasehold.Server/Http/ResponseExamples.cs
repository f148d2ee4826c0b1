using System.Text.Json;
using System.Text.Json.Nodes;
using Leasehold.Protocol;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Leasehold.Server.Http;

/// <summary>
/// An example for each success body the /v1 routes answer, built from the wire types and serialized as the
/// server serializes them, so an example can never disagree with its schema.
/// </summary>
internal static class ResponseExamples
{
    private static readonly DateTimeOffset At = new(2026, 12, 5, 9, 30, 0, TimeSpan.Zero);

    private static readonly LeaseDto Lease = new()
    {
        Id = 42, Token = "9f1c2a7e5b3d4c6f8a0b1c2d3e4f5a6b", Owner = "ci-42", Mode = "exclusive",
        Paths = ["/lab/rack-2/phone-7"], Limit = 1, Ttl = 60, Fence = 1337, AcquiredAt = At,
        ExpiresAt = At.AddSeconds(60), LockParents = true, LockChildren = true, Waited = 0.25,
    };

    private static readonly WaiterDto Waiter = new()
    {
        Id = 7, Owner = "ci-43", Mode = "exclusive", Paths = ["/lab/rack-2/phone-7"], Since = At.AddSeconds(5), Waiting = 2.5,
    };

    private static readonly SessionDto Session = new() { Id = 3, Owner = "worker-7", Principal = "ci-bot", Ttl = 15, ExpiresAt = At.AddSeconds(15), Leases = 1 };

    private static readonly DrainDto Drain = new() { Path = "/lab/rack-2", Actor = "ops", Since = At.AddMinutes(-10) };

    private static readonly Dictionary<Type, JsonNode?> Examples = new()
    {
        [typeof(DrainDto)] = JsonSerializer.SerializeToNode(Drain, ProtocolJsonContext.Default.DrainDto),
        [typeof(DrainListDto)] = JsonSerializer.SerializeToNode(new DrainListDto { Drains = [Drain] }, ProtocolJsonContext.Default.DrainListDto),
        [typeof(AdminLeaseListDto)] = JsonSerializer.SerializeToNode(
            new AdminLeaseListDto { Leases = [Lease with { Token = null, Principal = "ci-bot" }], Truncated = false }, ProtocolJsonContext.Default.AdminLeaseListDto),
        [typeof(AdminSessionListDto)] = JsonSerializer.SerializeToNode(
            new AdminSessionListDto { Sessions = [Session], Truncated = false }, ProtocolJsonContext.Default.AdminSessionListDto),
        [typeof(LeaseDto)] = JsonSerializer.SerializeToNode(Lease, ProtocolJsonContext.Default.LeaseDto),
        [typeof(SessionDto)] = JsonSerializer.SerializeToNode(
            Session with { Token = "0a1b2c3d4e5f60718293a4b5c6d7e8f9" },
            ProtocolJsonContext.Default.SessionDto),
        [typeof(ResourceDto)] = JsonSerializer.SerializeToNode(
            new ResourceDto { Path = "/lab/rack-2/phone-7", Attributes = Json("""{"os": "android", "online": true}"""), Holders = [Lease with { Token = null }], Queue = [Waiter], BlockedBy = [], QueuedAhead = [] },
            ProtocolJsonContext.Default.ResourceDto),
        [typeof(FenceDto)] = JsonSerializer.SerializeToNode(
            new FenceDto { Path = "/lab/rack-2/phone-7", Fence = 1337, Current = true, Fences = [1337] },
            ProtocolJsonContext.Default.FenceDto),
        [typeof(WhoAmIDto)] = JsonSerializer.SerializeToNode(
            new WhoAmIDto { Name = "ci-runner-7", AuthenticationType = "Certificate" }, ProtocolJsonContext.Default.WhoAmIDto),
    };

    private static JsonElement Json(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    public static Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var response in context.Description.SupportedResponseTypes)
        {
            if (response.StatusCode is >= 200 and < 300 && response.Type is { } type && Examples.TryGetValue(type, out var example)
                && operation.Responses?.TryGetValue(response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture), out var described) == true
                && described.Content?.TryGetValue("application/json", out var media) == true)
            {
                media.Example = example?.DeepClone();
            }
        }
        return Task.CompletedTask;
    }
}

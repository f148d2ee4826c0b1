using System.Text.Json;
using System.Text.Json.Nodes;
using Leasehold.Protocol;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Leasehold.Server.Http;

/// <summary>
/// Every /v1 operation can be refused with an RFC 9457 problem (<c>application/problem+json</c>): the
/// document names that for each of them, besides the specific statuses the endpoints list themselves.
/// </summary>
internal static class ErrorResponses
{
    public static async Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (!(context.Description.RelativePath ?? "").StartsWith("v1", StringComparison.Ordinal))
        {
            return;
        }
        var schema = await context.GetOrCreateSchemaAsync(typeof(ProblemDto), null, cancellationToken).ConfigureAwait(false);
        operation.Responses ??= [];
        foreach (var (status, description) in new[]
        {
            ("4XX", "Refused: the problem's `code` says why (`invalid-argument`, `invalid-path`, `invalid-token`, `not-found`, `locked`, `unauthenticated`, `forbidden`, `quota-exceeded`, ...)."),
            ("5XX", "The server could not do it now (`internal`, `shutting-down`, ...)."),
        })
        {
            operation.Responses.TryAdd(status, new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType> { [ProblemDto.ContentType] = new() { Schema = schema, Example = Example(status) } },
            });
        }
    }

    /// <summary>A problem as the server writes it, from the problem catalogue.</summary>
    private static JsonNode? Example(string status) => JsonSerializer.SerializeToNode(
        status == "4XX"
            ? Problems.Create(ErrorCodes.NotFound, "lease 42 is not held (never granted, released, or expired)")
            : Problems.Create(ErrorCodes.ShuttingDown, "the server is shutting down"),
        ProtocolJsonContext.Default.ProblemDto);
}

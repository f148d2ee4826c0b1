using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Leasehold.Server.Http;

/// <summary>
/// Names the JSON body an endpoint reads for the OpenAPI document. Unlike <c>Accepts</c> it does not make
/// routing refuse other content types: the body is parsed as JSON whatever the client labels it
/// (plain <c>curl -d</c> sends a form content type), and bad JSON gets a precise problem instead of a bare 415.
/// <paramref name="Example"/>, when given, is an example body for the document.
/// </summary>
internal sealed record JsonBody(Type Type, string? Example = null)
{
    public static async Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var body = context.Description.ActionDescriptor.EndpointMetadata.OfType<JsonBody>().FirstOrDefault();
        if (body is null)
        {
            return;
        }
        var schema = await context.GetOrCreateSchemaAsync(body.Type, null, cancellationToken).ConfigureAwait(false);
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = body.Type != typeof(Protocol.RenewRequest) && body.Type != typeof(Protocol.SessionRequest),
            Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema, Example = body.Example is null ? null : JsonNode.Parse(body.Example) } },
        };
    }
}

using Leasehold.Protocol;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Leasehold.Server.Http;

/// <summary>Marks an endpoint that proves holding a lease or session with the <c>Leasehold-Token</c> header.</summary>
internal sealed record TokenHeader(string Of)
{
    public static Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var token = context.Description.ActionDescriptor.EndpointMetadata.OfType<TokenHeader>().FirstOrDefault();
        if (token is null)
        {
            return Task.CompletedTask;
        }
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = Headers.Token,
            In = ParameterLocation.Header,
            Required = true,
            Description = $"The secret token of the {token.Of}, as returned when it was granted: 32 hexadecimal digits.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = "^[0-9a-fA-F]{32}$" },
            Example = System.Text.Json.Nodes.JsonValue.Create("0123456789abcdef0123456789abcdef"),
        });
        return Task.CompletedTask;
    }
}

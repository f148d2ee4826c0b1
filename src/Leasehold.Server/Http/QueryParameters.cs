using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Leasehold.Server.Http;

/// <summary>
/// A query parameter a handler reads by hand (so ASP.NET cannot see it), named for the OpenAPI document.
/// </summary>
internal sealed record QueryParameter(string Name, JsonSchemaType Type, string Description, JsonNode Example, bool Required = false)
{
    public static Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var query in context.Description.ActionDescriptor.EndpointMetadata.OfType<QueryParameter>())
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = query.Name,
                In = ParameterLocation.Query,
                Required = query.Required,
                Description = query.Description,
                Schema = new OpenApiSchema
                {
                    Type = query.Type,
                    Format = query.Type == JsonSchemaType.Integer ? "int64" : query.Example is JsonValue v && v.TryGetValue<string>(out var s) && DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out _) ? "date-time" : null,
                },
                Example = query.Example,
            });
        }
        return Task.CompletedTask;
    }

    /// <summary>The <c>prefix</c> query parameter of listings: a resource path, <c>/</c> when absent.</summary>
    public static QueryParameter Prefix(string what) => new("prefix", JsonSchemaType.String, $"{what} at or under this resource path (default `/`).", JsonValue.Create("/build"));
}

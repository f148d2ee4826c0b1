using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Leasehold.Server.Http;

/// <summary>
/// Declares every parameter of an operation's route template in the OpenAPI document. ASP.NET writes a
/// catch-all <c>{**path}</c> as <c>{path}</c> without a parameter object, and the handlers take ids as
/// strings (to answer a non-numeric id with <c>not-found</c>), which would be typed as a string.
/// </summary>
internal static partial class RouteParameters
{
    [GeneratedRegex(@"\{\**([A-Za-z]+)[^}]*\}")]
    private static partial Regex Template();

    public static Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var template = context.Description.RelativePath ?? "";
        foreach (Match match in Template().Matches(template))
        {
            var name = match.Groups[1].Value;
            operation.Parameters ??= [];
            var existing = operation.Parameters.FirstOrDefault(p => p.In == ParameterLocation.Path && p.Name == name);
            if (existing is not null)
            {
                operation.Parameters.Remove(existing);
            }
            operation.Parameters.Add(Describe(name));
        }
        return Task.CompletedTask;
    }

    private static OpenApiParameter Describe(string name) => name switch
    {
        "id" => new OpenApiParameter
        {
            Name = name,
            In = ParameterLocation.Path,
            Required = true,
            Description = "The id the lease or session was granted with (a non-numeric id is answered like an unknown one: `not-found`).",
            Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Minimum = "1" },
            Example = JsonValue.Create(42),
        },
        "rest" => new OpenApiParameter
        {
            Name = name,
            In = ParameterLocation.Path,
            Required = true,
            Description = "The pool's path followed by `/resources.json`, segments separated by literal `/` (an encoded `%2F` is refused).",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            Example = JsonValue.Create("lab/resources.json"),
        },
        _ => new OpenApiParameter
        {
            Name = name,
            In = ParameterLocation.Path,
            Required = true,
            Description = "A resource path without its leading `/`, segments separated by literal `/` and each percent-encoded on its own (an encoded `%2F` is refused).",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            Example = JsonValue.Create("build/gpu-1"),
        },
    };
}

using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Leasehold.Server.Http;

/// <summary>The document's title, tag descriptions, and a server URL without a trailing slash.</summary>
internal static class DocumentInfo
{
    private const string BearerScheme = "bearer";

    public static Task DescribeAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "Leasehold";
        document.Info.Description = "Leases (locks with a time to live) on hierarchical resource paths, sessions, and pools of declared resources.";
        foreach (var server in document.Servers ?? [])
        {
            server.Url = server.Url?.TrimEnd('/');
        }
        document.Tags = new HashSet<OpenApiTag>
        {
            new() { Name = "Health", Description = "Liveness, readiness and counters." },
            new() { Name = "Leases", Description = "Acquire, read, renew and release leases." },
            new() { Name = "Resources", Description = "Holders and queues of paths, listings, fencing checks." },
            new() { Name = "Sessions", Description = "Sessions whose end releases their leases." },
            new() { Name = "Pools", Description = "Declared resources, pools, history and utilization." },
            new() { Name = "Admin", Description = "Administrators: revoke leases, end sessions, drain prefixes, list everything held." },
        };
        // Credentials matter only when the server's security is on: either no requirement or a bearer.
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An API key (`lh_…`) or a JSON Web Token. Needed only when the server's security is on (docs/security.md).",
        };
        document.Security =
        [
            new OpenApiSecurityRequirement(),
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] },
        ];
        return Task.CompletedTask;
    }
}

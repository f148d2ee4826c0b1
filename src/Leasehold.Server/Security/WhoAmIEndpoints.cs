using Leasehold.Protocol;

namespace Leasehold.Server.Security;

/// <summary>
/// <c>GET /v1/whoami</c>: the name and authentication type the server gives the caller, so an operator can check
/// a credential (a client certificate) before relying on it.
/// </summary>
public static class WhoAmIEndpoints
{
    public static void MapWhoAmIEndpoints(this WebApplication app)
    {
        app.MapGet("/v1/whoami", (HttpContext context) =>
            {
                var name = Caller.NameOf(context);
                return TypedResults.Json(
                    new WhoAmIDto { Name = name, AuthenticationType = name is null ? null : context.User.Identity?.AuthenticationType },
                    ProtocolJsonContext.Default.WhoAmIDto);
            })
            .WithTags("Health").WithName("WhoAmI").Produces<WhoAmIDto>()
            .WithSummary("The caller's name and how it was authenticated; null for an anonymous caller");
    }
}

using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Leasehold.Server.Security;

/// <summary>
/// Authenticates <c>Authorization: Bearer lh_…</c> or <c>X-Api-Key: lh_…</c> against the hashed keys in the
/// settings, read anew on each request (<see cref="IOptionsMonitor{TOptions}"/>), so a rotated or removed key
/// stops working as soon as the settings file is saved.
/// </summary>
public sealed class ApiKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    IOptionsMonitor<SecurityOptions> security,
    TimeProvider clock,
    ILoggerFactory logger,
    UrlEncoder encoder) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    public const string Header = "X-Api-Key";

    /// <summary>The key (or other bearer credential) a request presents, or null.</summary>
    public static string? KeyOf(HttpRequest request)
    {
        if (request.Headers.TryGetValue(Header, out var key) && key.Count == 1)
        {
            return key[0];
        }
        var authorization = request.Headers.Authorization;
        // Any bearer: one that is not a key (when JWTs are not configured) must fail, not pass as anonymous.
        if (authorization.Count == 1 && authorization[0] is { } value
            && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return value["Bearer ".Length..].Trim();
        }
        return null;
    }

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = KeyOf(Request);
        if (key is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        if (!ApiKeys.TryGetId(key, out var id))
        {
            return Task.FromResult(AuthenticateResult.Fail("the API key is malformed (keys look like lh_ID_SECRET)"));
        }
        // One message for unknown, revoked and rotated keys: which ids exist is not the caller's business.
        if (!security.CurrentValue.ApiKeys.TryGetValue(id, out var entry) || !ApiKeys.Matches(key, entry.Hash) || entry.Principal is not { Length: > 0 } principal)
        {
            return Task.FromResult(AuthenticateResult.Fail("the API key is not valid (unknown, revoked or rotated)"));
        }
        if (entry.Expires is { } expires && expires <= clock.GetUtcNow())
        {
            return Task.FromResult(AuthenticateResult.Fail($"the API key expired at {expires:u}"));
        }
        var claims = new List<Claim> { new(ClaimTypes.Name, principal), new("leasehold:key", id) };
        claims.AddRange(entry.Roles.Select(role => new Claim(ClaimTypes.Role, role)));
        var identity = new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}

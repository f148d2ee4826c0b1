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

    /// <summary>The authentication property holding a key's expiry in Unix milliseconds.</summary>
    public const string ExpiresItem = "leasehold:expires-ms";

    /// <summary>
    /// The credential a request presents in <c>X-Api-Key</c> or <c>Authorization: Bearer</c>: null when it sends
    /// neither; otherwise the value, or an error for a header that cannot be used (repeated, or another scheme),
    /// which must fail rather than pass as anonymous.
    /// </summary>
    public static string? KeyOf(HttpRequest request, out string? error)
    {
        error = null;
        if (request.Headers.TryGetValue(Header, out var key))
        {
            if (key.Count == 1 && key[0] is { Length: > 0 } one)
            {
                return one.Trim();
            }
            error = $"send one {Header} header";
            return "";
        }
        var authorization = request.Headers.Authorization;
        if (authorization.Count == 0)
        {
            return null;
        }
        if (authorization.Count == 1 && authorization[0] is { } value && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return value["Bearer ".Length..].Trim();
        }
        error = "send one Authorization header, Bearer with an API key or a token";
        return "";
    }

    /// <summary>Whether the request's credential is a bearer token that is not an API key (a JWT, when configured).</summary>
    public static bool IsOtherBearer(HttpRequest request) =>
        !request.Headers.ContainsKey(Header) && KeyOf(request, out var error) is { Length: > 0 } bearer && error is null
        && !bearer.StartsWith(ApiKeys.Prefix, StringComparison.Ordinal);

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = KeyOf(Request, out var error);
        if (key is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        if (error is not null)
        {
            return Task.FromResult(AuthenticateResult.Fail(error));
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
        // The expiry travels with the ticket: a native connection, authenticated once, is closed when it comes.
        var properties = new AuthenticationProperties { ExpiresUtc = entry.Expires };
        if (entry.Expires is { } at)
        {
            // ExpiresUtc keeps whole seconds only: the exact moment too, so a connection is never closed early.
            properties.Items[ExpiresItem] = at.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), properties, SchemeName)));
    }
}

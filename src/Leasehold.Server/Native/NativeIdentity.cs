using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace Leasehold.Server.Native;

/// <summary>
/// Who a native connection is, decided once at HELLO by the same authentication HTTP runs (API keys, JWTs,
/// client certificates): the credential goes in as <c>Authorization: Bearer</c>, the TLS client certificate as
/// the connection's, so both front-ends agree on every principal.
/// </summary>
internal static class NativeIdentity
{
    /// <returns>The caller, or a failure (credentials sent that do not hold) to refuse the connection with; and when
    /// the credential stops holding (an API key's or a token's expiry), if it says.</returns>
    public static async Task<(ClaimsPrincipal User, string? Failure, DateTimeOffset? Expires)> AuthenticateAsync(NativeShared shared, ConnectionContext connection, string? credential)
    {
        if (!shared.SecurityOn)
        {
            return (NativeShared.Anonymous, null, null);
        }
        await using var scope = shared.Services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Path = "/native";
        if (credential is not null)
        {
            context.Request.Headers.Authorization = "Bearer " + credential;
        }
        if (connection.RemoteEndPoint is System.Net.IPEndPoint remote)
        {
            context.Connection.RemoteIpAddress = remote.Address;
            context.Connection.RemotePort = remote.Port;
        }
        if (connection.Features.Get<ITlsConnectionFeature>() is { } tls)
        {
            context.Features.Set(tls);
        }
        var result = await context.AuthenticateAsync().ConfigureAwait(false);
        if (result.Failure is { } failure)
        {
            return (NativeShared.Anonymous, failure.Message, null);
        }
        if (!result.Succeeded)
        {
            return (NativeShared.Anonymous, null, null);
        }
        var expires = result.Properties?.Items.TryGetValue(Security.ApiKeyHandler.ExpiresItem, out var ms) == true
            && long.TryParse(ms, System.Globalization.CultureInfo.InvariantCulture, out var unixMs)
                ? DateTimeOffset.FromUnixTimeMilliseconds(unixMs)
                : result.Properties?.ExpiresUtc;
        return (result.Principal, null, expires);
    }
}

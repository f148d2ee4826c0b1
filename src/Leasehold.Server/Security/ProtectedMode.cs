using System.Net;

namespace Leasehold.Server.Security;

/// <summary>
/// Protected mode, after Redis: with no way to authenticate configured, the server serves loopback only. Asked
/// to listen anywhere else, it refuses to start, unless <see cref="SecurityOptions.Open"/> (<c>--open</c>) says
/// to run open there on purpose.
/// </summary>
public static class ProtectedMode
{
    public const string OpenFlag = "--open";

    /// <summary>The addresses the server is set to listen on that are not loopback.</summary>
    public static IReadOnlyList<string> NonLoopback(IConfiguration configuration, IPAddress? idServerAddress)
    {
        var found = new List<string>();
        foreach (var url in (configuration["urls"] ?? LeaseholdApp.DefaultUrl).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!IsLoopbackUrl(url))
            {
                found.Add(url);
            }
        }
        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { } url && !IsLoopbackUrl(url))
            {
                found.Add(url);
            }
        }
        // ASPNETCORE_HTTP_PORTS and its kin bind every address.
        foreach (var key in new[] { "http_ports", "https_ports" })
        {
            if (!string.IsNullOrWhiteSpace(configuration[key]))
            {
                found.Add($"{key}={configuration[key]} (every address)");
            }
        }
        if (idServerAddress is not null && !IPAddress.IsLoopback(idServerAddress))
        {
            found.Add($"idserver {idServerAddress}");
        }
        return found;
    }

    private static bool IsLoopbackUrl(string url)
    {
        // Kestrel's wildcards (* and +) are not valid URI hosts: they mean every address.
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        var rest = schemeEnd < 0 ? url : url[(schemeEnd + 3)..];
        if (rest.StartsWith('*') || rest.StartsWith('+'))
        {
            return false;
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return false;
        }
        var host = uri.Host.Trim('[', ']');
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }

    /// <summary>Throws the one-line refusal when the settings ask for an open server off loopback.</summary>
    public static void Check(IConfiguration configuration, bool securityEnabled, bool open, IPAddress? idServerAddress)
    {
        if (securityEnabled || open)
        {
            return;
        }
        var exposed = NonLoopback(configuration, idServerAddress);
        if (exposed.Count > 0)
        {
            throw new InvalidDataException(
                $"refusing to serve {string.Join(", ", exposed)} without authentication: configure API keys, JWT or client certificates "
                + $"(docs/security.md), or run open on purpose with {OpenFlag}");
        }
    }
}

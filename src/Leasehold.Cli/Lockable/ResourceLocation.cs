using System.Text.RegularExpressions;

namespace Leasehold.Cli.Lockable;

/// <summary>
/// Where <c>--resources</c> points, told apart as py-lockable does (an http(s) URL with a host, else a
/// file), and a URL of a Leasehold pool's resource list (<c>…/v1/pools/POOL/resources.json</c>) recognised
/// as that server and pool.
/// </summary>
internal sealed partial record ResourceLocation(string Text, Uri? Url, Uri? Server, string? Pool)
{
    /// <summary>A file: allocate here, with lock files.</summary>
    public bool IsFile => Url is null;

    /// <summary>A Leasehold pool: allocate on its server.</summary>
    public bool IsLeaseholdPool => Server is not null;

    public static ResourceLocation Parse(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.IsFile || uri.IsUnc || uri.Host.Length == 0)
        {
            return new ResourceLocation(text, null, null, null);
        }
        if (uri.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"--resources: '{text}' is neither a file nor an http:// or https:// URL");
        }
        var match = PoolList().Match(uri.AbsolutePath);
        if (!match.Success)
        {
            return new ResourceLocation(text, uri, null, null);
        }
        var server = new Uri(uri.GetLeftPart(UriPartial.Authority) + match.Groups["base"].Value + "/");
        var pool = "/" + Uri.UnescapeDataString(match.Groups["pool"].Value);
        return new ResourceLocation(text, uri, server, pool);
    }

    /// <summary>The route <c>GET /v1/pools/{pool}/resources.json</c> under any base path.</summary>
    [GeneratedRegex("^(?<base>.*?)/v1/pools/(?<pool>.+)/resources\\.json$", RegexOptions.CultureInvariant)]
    private static partial Regex PoolList();
}

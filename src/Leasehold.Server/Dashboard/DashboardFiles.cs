using System.Collections.Frozen;
using System.Security.Cryptography;

namespace Leasehold.Server.Dashboard;

/// <summary>
/// The web dashboard (docs/dashboard.md): static files embedded in the server's assembly, served at <c>/</c>
/// (the page) and <c>/dashboard/NAME</c> (its script, style sheet and the charting library), GET and HEAD only,
/// with an ETag so a browser revalidates instead of downloading again. The files are public (they hold no
/// data); the page reads everything through the API with the viewer's own credential.
/// </summary>
/// <remarks>
/// A middleware, not routes: POST <c>/</c> belongs to gocept.lockd's front-end (or to nobody, 404, when it is
/// off), and the files must be served by any cluster node itself, before leader forwarding, credential checks
/// and rate limits.
/// </remarks>
internal static class DashboardFiles
{
    /// <summary>Configuration switch (default true).</summary>
    public const string EnabledKey = "Leasehold:Dashboard:Enabled";

    /// <summary>The URL prefix of the page's files.</summary>
    public const string Prefix = "/dashboard/";

    /// <summary>The logical name prefix of the embedded files (set in Leasehold.Server.csproj).</summary>
    private const string ResourcePrefix = "dashboard/";

    /// <summary>The charting library's file: absent when npm was missing at build time (the page then says so).</summary>
    public const string ChartLibrary = "vendor/uPlot.iife.min.js";

    // The page loads nothing from elsewhere (it works offline) and runs no inline script: say so to the browser,
    // which then refuses anything injected. Styles set from script (the charting library's) are not affected.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly Lazy<FrozenDictionary<string, Asset>> Assets = new(Load);

    /// <summary>The embedded files by their name under <see cref="Prefix"/> (the page is <c>index.html</c>).</summary>
    public static FrozenDictionary<string, Asset> All => Assets.Value;

    public static void UseDashboard(this WebApplication app)
    {
        if (!app.Configuration.GetValue(EnabledKey, true))
        {
            return;
        }
        var assets = All;
        app.Use(async (context, next) =>
        {
            var request = context.Request;
            if ((HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
                && NameOf(request.Path) is { } name && assets.TryGetValue(name, out var asset))
            {
                await WriteAsync(context, asset).ConfigureAwait(false);
                return;
            }
            await next(context).ConfigureAwait(false);
        });
    }

    private static string? NameOf(PathString path)
    {
        var value = path.Value;
        if (value is null or "/")
        {
            return "index.html";
        }
        return value.StartsWith(Prefix, StringComparison.Ordinal) ? value[Prefix.Length..] : null;
    }

    private static Task WriteAsync(HttpContext context, Asset asset)
    {
        var response = context.Response;
        var headers = response.Headers;
        headers.ETag = asset.ETag;
        // Always revalidated: a new server version serves new files under the same names at once.
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        if (asset.IsPage)
        {
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers["Referrer-Policy"] = "no-referrer";
        }
        if (Matches(context.Request.Headers.IfNoneMatch, asset.ETag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Content.Length;
        return HttpMethods.IsHead(context.Request.Method)
            ? Task.CompletedTask
            : response.Body.WriteAsync(asset.Content, context.RequestAborted).AsTask();
    }

    /// <summary>Whether an If-None-Match header names this ETag (weakly compared, as RFC 9110 says for it) or is <c>*</c>.</summary>
    private static bool Matches(Microsoft.Extensions.Primitives.StringValues ifNoneMatch, string etag)
    {
        foreach (var value in ifNoneMatch)
        {
            foreach (var tag in (value ?? "").Split(',', StringSplitOptions.TrimEntries))
            {
                if (tag == "*" || tag == etag || tag == "W/" + etag)
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(DashboardFiles).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }
            var name = resource[ResourcePrefix.Length..];
            using var stream = assembly.GetManifestResourceStream(resource)!;
            var content = new byte[stream.Length];
            stream.ReadExactly(content);
            var hash = Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12));
            assets[name] = new Asset(content, ContentTypeOf(name), $"\"{hash}\"", name == "index.html");
        }
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        _ => "text/plain; charset=utf-8",
    };

    /// <summary>One embedded file.</summary>
    internal sealed record Asset(byte[] Content, string ContentType, string ETag, bool IsPage);
}

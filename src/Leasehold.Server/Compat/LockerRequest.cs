using System.Globalization;
using Leasehold.Core;

namespace Leasehold.Server.Compat;

/// <summary>A Locker request's parts: the resource path after the route name, its parameters, its token.</summary>
internal static class LockerRequest
{
    /// <summary>
    /// The path after <paramref name="route"/> (<c>canhaz</c>, <c>nowant</c> or <c>dohaz</c>), as Locker
    /// reads it: the raw target is split on <c>/</c>, empty segments are dropped (so a trailing slash is
    /// ignored) and each segment is percent-decoded on its own. No segments is the root <c>/</c>.
    /// </summary>
    public static bool TryReadPath(HttpContext context, string route, out ResourcePath path, out string error)
    {
        var raw = Http.RequestReading.RawPath(context);
        var segments = raw.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        // The first segment is the route's name; anything else there (the server routed a target such as
        // /./canhaz/x after removing its dot segments) would shift the path, so it is refused.
        if (segments.Length == 0 || !string.Equals(segments[0], route, StringComparison.OrdinalIgnoreCase))
        {
            path = ResourcePath.Root;
            error = "a path has no '.' or '..' segments";
            return false;
        }
        return ResourcePath.TryFromSegments(segments[1..], out path, out error);
    }

    /// <summary>
    /// The parameters: query string first, then the fields of a form body (POST), as CherryPy merges them.
    /// A repeated name keeps its first value. Also says which names came in the query and which in the body.
    /// </summary>
    public static async Task<Parameters> ReadParametersAsync(HttpRequest request)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in request.Query)
        {
            values.TryAdd(name, value.Count > 0 ? value[0] ?? "" : "");
        }
        if (!request.HasFormContentType)
        {
            return new Parameters(values, [.. request.Query.Keys], [], null);
        }
        try
        {
            var form = await request.ReadFormAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
            foreach (var (name, value) in form)
            {
                values.TryAdd(name, value.Count > 0 ? value[0] ?? "" : "");
            }
            return new Parameters(values, [.. request.Query.Keys], [.. form.Keys], null);
        }
        catch (InvalidDataException ex)
        {
            return new Parameters(values, [.. request.Query.Keys], [], "the form body cannot be read: " + ex.Message);
        }
        catch (BadHttpRequestException ex)
        {
            return new Parameters(values, [.. request.Query.Keys], [], "the form body cannot be read: " + ex.Message);
        }
    }

    /// <summary>A flag as Locker reads it: only the exact text <c>False</c> turns it off.</summary>
    public static bool Flag(Parameters parameters, string name)
        => !(parameters.Values.TryGetValue(name, out var value) && value == "False");

    /// <summary>The engine token of a Locker token: the uuid's 128 bits (its 32 hex digits are the /v1 token).</summary>
    public static UInt128 ToEngineToken(Guid token)
        => UInt128.Parse(token.ToString("N"), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    /// <summary>Reads a token exactly as <c>canhaz</c> printed it (lower-case, with dashes); anything else matches nothing.</summary>
    public static bool TryReadToken(string? text, out UInt128 token)
    {
        token = default;
        if (text is null || !Guid.TryParseExact(text, "D", out var guid) || guid.ToString("D") != text)
        {
            return false;
        }
        token = ToEngineToken(guid);
        return true;
    }

    public sealed record Parameters(Dictionary<string, string> Values, string[] InQuery, string[] InBody, string? Error);
}

using System.Text;
using System.Text.Json;
using Leasehold.Protocol;

namespace Leasehold.Client;

/// <summary>Options to wire shapes.</summary>
internal static class Requests
{
    public static AcquireRequest Acquire(AcquireOptions options, string? owner, long? session)
    {
        if (options.Paths.Count > 0 == options.Groups.Count > 0)
        {
            throw new ArgumentException("give either paths or pool groups", nameof(options));
        }
        return new AcquireRequest
        {
            Paths = options.Paths.Count > 0 ? [.. options.Paths] : null,
            Groups = options.Groups.Count > 0
                ? [.. options.Groups.Select(g => new GroupRequest { Pool = g.Pool, Require = Require(g.Require), Count = g.Count })]
                : null,
            Mode = options.Shared ? "shared" : null,
            Limit = options.Limit,
            Ttl = options.Ttl?.TotalSeconds,
            Wait = options.Wait.TotalSeconds,
            Owner = owner,
            Session = session,
            LockParents = options.LockParents ? null : false,
            LockChildren = options.LockChildren ? null : false,
            Reuse = options.Reuse ? true : null,
        };
    }

    /// <summary>32 random characters of <c>A-Z a-z 0-9 - _</c> (192 bits): the idempotency key of one acquire, as secret as its token.</summary>
    public static string NewIdempotencyKey()
    {
        Span<byte> bytes = stackalloc byte[24];
        System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
        return Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_');
    }

    /// <summary>A JSON query passes as an object; anything else as the <c>k=v&amp;…</c> string the server parses.</summary>
    public static JsonElement? Require(string? require)
    {
        if (string.IsNullOrWhiteSpace(require))
        {
            return null;
        }
        if (require.TrimStart().StartsWith('{'))
        {
            using var document = JsonDocument.Parse(require);
            return document.RootElement.Clone();
        }
        return JsonSerializer.SerializeToElement(require, ProtocolJsonContext.Default.String);
    }

    /// <summary><c>/lab/a b</c> as <c>/lab/a%20b</c>: each segment escaped on its own.</summary>
    public static string EncodePath(string path)
    {
        var builder = new StringBuilder();
        foreach (var segment in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            builder.Append('/').Append(Uri.EscapeDataString(segment));
        }
        return builder.Length == 0 ? "/" : builder.ToString();
    }
}

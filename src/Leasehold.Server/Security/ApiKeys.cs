using System.Security.Cryptography;
using System.Text;

namespace Leasehold.Server.Security;

/// <summary>
/// API keys: <c>lh_ID_SECRET</c>, where the id names the key in the settings and the secret is 32 random bytes.
/// Settings hold <c>sha256:HEX</c> of the whole key. A plain SHA-256 suffices (no slow password hash): the
/// secret is random with 256 bits, so nothing can be guessed from its hash (docs/security.md).
/// </summary>
public static class ApiKeys
{
    public const string Prefix = "lh_";

    private const string HashPrefix = "sha256:";

    /// <summary>Key ids: letters, digits, <c>-</c> and <c>.</c>, so the id ends at the first <c>_</c>.</summary>
    public static bool IsValidId(string id) =>
        id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.');

    /// <summary>A new key for <paramref name="id"/>, from a secure random source.</summary>
    public static string Create(string id)
    {
        if (!IsValidId(id))
        {
            throw new ArgumentException($"a key id is 1 to 64 letters, digits, '-' or '.', not '{id}'", nameof(id));
        }
        return Prefix + id + "_" + Base64Url(RandomNumberGenerator.GetBytes(32));
    }

    public static string Hash(string key) => HashPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The id part of a key that has the key's shape; false for anything else.</summary>
    public static bool TryGetId(string key, out string id)
    {
        id = "";
        if (!key.StartsWith(Prefix, StringComparison.Ordinal) || key.Length > 200)
        {
            return false;
        }
        var end = key.IndexOf('_', Prefix.Length);
        if (end < 0 || end == key.Length - 1)
        {
            return false;
        }
        id = key[Prefix.Length..end];
        return IsValidId(id);
    }

    /// <summary>Whether <paramref name="key"/> hashes to <paramref name="storedHash"/>, compared in constant time.</summary>
    public static bool Matches(string key, string? storedHash)
    {
        if (storedHash is null || !storedHash.StartsWith(HashPrefix, StringComparison.Ordinal))
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(key)), Encoding.ASCII.GetBytes(storedHash.ToLowerInvariant()));
    }

    /// <summary>Whether a configured hash has the right form (so a pasted key or a typo is reported at start-up).</summary>
    public static bool IsValidHash(string? hash) =>
        hash is { Length: 71 } && hash.StartsWith(HashPrefix, StringComparison.Ordinal) && hash[HashPrefix.Length..].All(char.IsAsciiHexDigit);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

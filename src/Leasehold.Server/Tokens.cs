using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Leasehold.Server;

/// <summary>
/// Where lease and session secrets come from. A token taken with a request is random: only the client
/// that got it can renew or end its lease. Old protocols that name their clients instead of handing out
/// secrets (gocept.lockd, idserver, and pool requests with <c>reuse</c>) get a token derived from the
/// protocol and the name, so such a front-end finds exactly the leases it created for that name and never
/// one that was taken with a random token, whoever its owner is. Whatever its origin, only the token's
/// <see cref="Hash"/> reaches the engine, and so the log.
/// </summary>
public static class Tokens
{
    /// <summary>The name-keyed tokens of gocept.lockd's clients.</summary>
    public const string Lockd = "lockd";

    /// <summary>The name-keyed tokens of pool leases taken with <c>reuse</c> (idserver's get, or <c>/v1</c>).</summary>
    public const string PoolReuse = "pool-reuse";

    /// <summary>What a command carries and the engine keeps of <paramref name="token"/> (never the token itself).</summary>
    public static UInt128 Hash(UInt128 token) => Core.TokenHash.Of(token);

    /// <summary>What the engine keeps of <see cref="ForName"/>'s token.</summary>
    public static UInt128 NameHash(string protocol, string name) => Hash(ForName(protocol, name));

    /// <summary>A new random token: 128 bits from the system's cryptographic generator.</summary>
    public static UInt128 New()
    {
        // The generator is asked for a block at a time, per thread: one call into it costs about as much as the rest
        // of an acquire's work on the server (docs/performance.md), and its output is as random in any slice. Each
        // token's bytes are wiped from the block as it is taken, so no token outlives its use there.
        var block = t_random ??= new byte[RandomBlockBytes];
        if (t_randomUsed == 0 || t_randomUsed == RandomBlockBytes)
        {
            RandomNumberGenerator.Fill(block);
            t_randomUsed = 0;
        }
        var slice = block.AsSpan(t_randomUsed, 16);
        var token = BinaryPrimitives.ReadUInt128LittleEndian(slice);
        slice.Clear();
        t_randomUsed += 16;
        return token;
    }

    private const int RandomBlockBytes = 4096;

    [ThreadStatic]
    private static byte[]? t_random;

    [ThreadStatic]
    private static int t_randomUsed;

    /// <summary>
    /// The token of an acquire that carries an idempotency key: the same for every retry of it by the same
    /// principal (<c>""</c> for an anonymous caller), different for every other principal and key, and never
    /// equal to a name's token (another domain). The key's characters exclude the separator, so no two
    /// (principal, key) pairs give the same input.
    /// </summary>
    public static UInt128 ForIdempotencyKey(string? principal, string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes("leasehold-idempotency-key\0" + (principal ?? "") + "\0" + key), hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    /// <summary>The token of <paramref name="name"/> under <paramref name="protocol"/>: the same for every request that names it.</summary>
    public static UInt128 ForName(string protocol, string name)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes("leasehold-name-token\0" + protocol + "\0" + name), hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }
}

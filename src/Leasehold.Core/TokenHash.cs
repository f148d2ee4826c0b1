using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Leasehold.Core;

/// <summary>
/// What the engine keeps of a lease's or session's secret: the first 128 bits of its SHA-256. Commands
/// carry this hash, never the token, so the log and snapshots (and a copy of them) cannot be used to
/// take over a lease. Tokens are 128 random bits, so a fast hash suffices: there is nothing to guess.
/// </summary>
public static class TokenHash
{
    public static UInt128 Of(UInt128 token)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128LittleEndian(bytes, token);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        // One hasher per thread, reset by each use: a third cheaper than a one-shot hash, which sets up and tears
        // down the platform's digest context every time (every acquire and release hashes a token).
        var hasher = t_hasher ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hasher.AppendData(bytes);
        hasher.GetHashAndReset(hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    [ThreadStatic]
    private static IncrementalHash? t_hasher;
}

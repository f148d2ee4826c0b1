using Leasehold.Core;

namespace Leasehold.Storage;

/// <summary>
/// Reading data written before tokens were hashed (log version 1, snapshot versions 1 and 2): those
/// records hold each token in clear, while the engine now keeps and compares <see cref="TokenHash"/>
/// values. Hashing them as they are read gives the state the current server would have built, so a
/// client holding such a lease still renews and releases it with its token. New records never go into
/// an old segment (recovery starts a new one), so every segment is read under one rule.
/// </summary>
internal static class ClearTokens
{
    public static Command Hash(Command command) => command switch
    {
        // Reuse matched by owner alone when these records were written; replay decides the same way.
        AcquireLease c => c with { Token = TokenHash.Of(c.Token), ReuseByOwnerOnly = c.Reuse },
        RenewLease c => c with { Token = TokenHash.Of(c.Token) },
        ReleaseLease c => c with { Token = TokenHash.Of(c.Token) },
        OpenSession c => c with { Token = TokenHash.Of(c.Token) },
        KeepAliveSession c => c with { Token = TokenHash.Of(c.Token) },
        CloseSession c => c with { Token = TokenHash.Of(c.Token) },
        _ => command,
    };

    public static UInt128 Hash(UInt128 token, int snapshotVersion)
        => snapshotVersion < LogFormat.FirstSnapshotVersionWithHashedTokens ? TokenHash.Of(token) : token;
}

using Leasehold.Core;
using Leasehold.Core.Pools;

namespace Leasehold.Server.Engine;

/// <summary>
/// A checked acquire, as a front-end built it (HTTP from its JSON body, the native protocol straight from its
/// frame's millisecond fields): everything the command needs but the writer's clock and the token's hash.
/// </summary>
internal record struct AcquireSpec
{
    public ResourcePath[] Paths;
    public PoolGroup[]? Groups;
    public LockMode Mode;
    public int? Limit;
    public long TtlMs;
    public long WaitMs;
    public long SessionId;
    public bool LockParents;
    public bool LockChildren;
    public string? Owner;
    public string? Principal;
    public bool Reuse;

    /// <summary>The token the grant shows (the engine gets only its hash).</summary>
    public UInt128 Token;

    /// <summary>The token is derived from an idempotency key: a live lease with it is this request's own.</summary>
    public bool ByIdempotencyKey;

    /// <summary>The command, stamped <paramref name="now"/>, carrying <paramref name="token"/> (the clear token or its hash).</summary>
    public readonly AcquireLease Command(long now, UInt128 token) => new()
    {
        Now = now,
        Paths = Paths,
        Mode = Mode,
        Limit = Limit,
        TtlMs = TtlMs,
        WaitMs = WaitMs,
        SessionId = SessionId,
        LockParents = LockParents,
        LockChildren = LockChildren,
        Owner = Owner,
        Principal = Principal,
        Token = token,
        Groups = Groups,
        Reuse = Reuse,
    };
}

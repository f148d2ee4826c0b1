using Leasehold.Core.Pools;

namespace Leasehold.Core.Tests.Pools;

/// <summary>
/// A deep copy of a captured <see cref="EngineState"/> (which holds the live engine's objects by reference),
/// as a snapshot file would give: the restored engine then shares nothing with the live one, so both can
/// run on side by side. Requirements are compiled again from their text, attributes parsed again.
/// </summary>
internal static class StateCopy
{
    public static LockEngine RestoreCopy(LockEngine engine, EngineLimits? limits = null)
        => LockEngine.Restore(Copy(engine.Capture()), limits ?? engine.Limits);

    public static EngineState Copy(EngineState state) => state with
    {
        Sessions = [.. state.Sessions.Select(s => new Session { Id = s.Id, Token = s.Token, Owner = s.Owner, Principal = s.Principal, TtlMs = s.TtlMs, ExpiresAt = s.ExpiresAt })],
        Leases = [.. state.Leases.Select(CopyLease)],
        Waiters = [.. state.Waiters.Select(CopyWaiter)],
        Resources = state.Resources is null ? null : [.. state.Resources.Select(CopyResource)],
        History = state.History is null ? null : [.. state.History.Select(h => h with { Paths = [.. h.Paths], Requirements = h.Requirements is null ? null : [.. h.Requirements] })],
    };

    private static Lease CopyLease(Lease l) => new()
    {
        Id = l.Id,
        Token = l.Token,
        Fence = l.Fence,
        Paths = [.. l.Paths],
        Mode = l.Mode,
        Limit = l.Limit,
        LockParents = l.LockParents,
        LockChildren = l.LockChildren,
        Owner = l.Owner,
        Principal = l.Principal,
        SessionId = l.SessionId,
        TtlMs = l.TtlMs,
        AcquiredAt = l.AcquiredAt,
        WaitedMs = l.WaitedMs,
        ExpiresAt = l.ExpiresAt,
        Groups = CopyGroups(l.Groups),
    };

    private static Waiter CopyWaiter(Waiter w) => new()
    {
        Id = w.Id,
        Token = w.Token,
        Paths = [.. w.Paths],
        Mode = w.Mode,
        Limit = w.Limit,
        LockParents = w.LockParents,
        LockChildren = w.LockChildren,
        Owner = w.Owner,
        Principal = w.Principal,
        SessionId = w.SessionId,
        TtlMs = w.TtlMs,
        EnqueuedAt = w.EnqueuedAt,
        Deadline = w.Deadline,
        Groups = CopyGroups(w.Groups),
    };

    private static GroupClaim[]? CopyGroups(GroupClaim[]? groups)
        => groups?.Select(g =>
        {
            Assert.True(GroupClaim.TryCreate(g.Group with { }, out var copy, out var error), error);
            copy.Chosen = [.. g.Chosen];
            return copy;
        }).ToArray();

    private static DeclaredResource CopyResource(DeclaredResource r)
    {
        Assert.True(DeclaredResource.TryParseAttributes(r.AttributesJson, out var attributes, out var error), error);
        return new DeclaredResource { Path = r.Path, AttributesJson = r.AttributesJson, Attributes = attributes, ReleasedSeq = r.ReleasedSeq };
    }
}

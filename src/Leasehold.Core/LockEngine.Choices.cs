using Leasehold.Core.Pools;
using Leasehold.Core.Query;

namespace Leasehold.Core;

/// <summary>
/// Pool choices as log content. Live, every pool decision (grant, queue, new candidates after a
/// declaration, drop, reuse) is noted, and the host logs the notes with the command. Replaying a logged
/// command through <see cref="Apply"/>, the engine applies the noted decisions instead of running the
/// matcher and the preference rules again: the state after replay is the live one even if those rules
/// differ between the version that wrote the log and the one reading it.
/// </summary>
public sealed partial class LockEngine
{
    // Decisions since the last TakeChoices; null while no pool decision was reached.
    private List<PoolChoice>? _made;

    // While Apply replays a logged command with its choices: those choices; null when deciding.
    private PoolChoice[]? _recorded;

    // Resource lists per set of pools (joined by newlines), valid until a declaration changes under one of them.
    private readonly Dictionary<string, (long Version, ResourcePath[] List, Dictionary<ResourcePath, int> Positions)> _resourceLists = new(StringComparer.Ordinal);

    // Passes over the queue in the current command (live: since TakeChoices; replaying: since Apply).
    private int _pass;

    /// <summary>
    /// For tests only: overrides whether a declared resource matches a requirement, standing for another
    /// version's matching rules (or, before matching was linear, a match cut short under load). Null: the
    /// requirement decides.
    /// </summary>
    internal Func<DeclaredResource, Requirement, bool>? MatchRule { get; set; }

    private bool Replaying => _recorded is not null;

    /// <summary>
    /// The pool choices made by the commands applied since the last call, in order, for the host to log with
    /// the command (<see cref="Command.Choices"/>); null when no command reached a pool decision. An empty
    /// array is not the same as null: it says pool waiters were considered and none was granted, which a
    /// replay must follow too.
    /// </summary>
    public PoolChoice[]? TakeChoices()
    {
        var made = _made;
        _made = null;
        _pass = 0;
        return made?.ToArray();
    }

    /// <summary>A pool decision is being made live: from now on the command's choices must be logged, even if none is noted.</summary>
    private void Deciding()
    {
        if (!Replaying)
        {
            _made ??= [];
        }
    }

    private void Note(long waiterId, PoolDecision decision)
    {
        if (!Replaying)
        {
            (_made ??= []).Add(new PoolChoice(waiterId, decision, 0, [], []));
        }
    }

    private void NoteGranted(long waiterId, GroupClaim[] groups)
    {
        if (Replaying)
        {
            return;
        }
        var positions = ResourceList(groups).Positions;
        int[][] chosen = [.. groups.Select(g => g.Chosen.Select(p => positions[p]).ToArray())];
        (_made ??= []).Add(new PoolChoice(waiterId, PoolDecision.Granted, waiterId == 0 ? 0 : _pass, chosen, []));
    }

    private void NoteCandidates(long waiterId, PoolDecision decision, GroupClaim[] groups, ResourcePath[] candidates)
    {
        if (Replaying)
        {
            return;
        }
        var (list, positions) = ResourceList(groups);
        var bits = new byte[(list.Length + 7) / 8];
        foreach (var candidate in candidates)
        {
            var i = positions[candidate];
            bits[i / 8] |= (byte)(1 << (i % 8));
        }
        (_made ??= []).Add(new PoolChoice(waiterId, decision, 0, [], bits));
    }

    /// <summary>
    /// The request's resource list (see <see cref="PoolChoice"/>), which logged positions refer to, with each
    /// resource's position; cached per set of pools until declarations change, so noting a grant costs
    /// O(resources chosen), not O(pool).
    /// </summary>
    private (ResourcePath[] List, Dictionary<ResourcePath, int> Positions) ResourceList(GroupClaim[] groups)
    {
        var key = string.Join("\n", groups.Select(g => g.Group.Pool.Value).Distinct());
        if (_resourceLists.TryGetValue(key, out var cached) && !AnyPoolChangedSince(groups, cached.Version))
        {
            return (cached.List, cached.Positions);
        }
        var list = new List<ResourcePath>();
        var positions = new Dictionary<ResourcePath, int>();
        foreach (var pool in groups.Select(g => g.Group.Pool).Distinct())
        {
            foreach (var resource in ListDeclared(pool))
            {
                if (positions.TryAdd(resource.Path, list.Count))
                {
                    list.Add(resource.Path);
                }
            }
        }
        if (_resourceLists.Count >= MaxCachedCandidateLists)
        {
            ForgetCachedLists();
        }
        ResourcePath[] array = [.. list];
        _resourceLists[key] = (_declarationsVersion, array, positions);
        foreach (var group in groups)
        {
            TrackPool(group.Group.Pool);
        }
        return (array, positions);
    }

    // A loop, not Any with a lambda: this runs on every pool grant, and the lambda's closure would be allocated each time.
    private bool AnyPoolChangedSince(GroupClaim[] groups, long version)
    {
        foreach (var group in groups)
        {
            if (PoolChangedSince(group.Group.Pool, version))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The candidates of a logged <see cref="PoolDecision.Queued"/> or <see cref="PoolDecision.Refitted"/>.</summary>
    private ResourcePath[] RecordedCandidates(PoolChoice recorded, GroupClaim[] groups)
    {
        var list = ResourceList(groups).List;
        if (recorded.Candidates.Length != (list.Length + 7) / 8)
        {
            throw Diverged($"the log names candidates among {recorded.Candidates.Length * 8} resources; {list.Length} are declared here");
        }
        var candidates = new List<ResourcePath>();
        for (var i = 0; i < list.Length; i++)
        {
            if ((recorded.Candidates[i / 8] & (1 << (i % 8))) != 0)
            {
                candidates.Add(list[i]);
            }
        }
        return [.. candidates];
    }

    private PoolChoice? Recorded(long waiterId, PoolDecision decision, int pass = 0)
    {
        foreach (var choice in _recorded!)
        {
            if (choice.WaiterId == waiterId && choice.Decision == decision && choice.Pass == pass)
            {
                return choice;
            }
        }
        return null;
    }

    private PoolChoice? RecordedFor(long waiterId)
    {
        foreach (var choice in _recorded!)
        {
            if (choice.WaiterId == waiterId)
            {
                return choice;
            }
        }
        return null;
    }

    /// <summary>
    /// Sets each group's chosen resources from a logged grant and returns them all. They are not matched
    /// again; but a resource someone holds means the replay went off the live run, which must stop recovery
    /// rather than give one resource to two holders.
    /// </summary>
    private ResourcePath[] ApplyRecordedGrant(PoolChoice recorded, in ClaimRequest claim)
    {
        var groups = claim.Groups!;
        if (recorded.Chosen.Length != groups.Length)
        {
            throw Diverged($"the log grants {recorded.Chosen.Length} group(s) to a request of {groups.Length}");
        }
        var list = ResourceList(groups).List;
        for (var i = 0; i < groups.Length; i++)
        {
            groups[i].Chosen = [.. recorded.Chosen[i].Select(p => p >= 0 && p < list.Length
                ? list[p]
                : throw Diverged($"the log grants resource {p} of {list.Length} declared"))];
        }
        ResourcePath[] paths = [.. groups.SelectMany(g => g.Chosen)];
        foreach (var path in paths)
        {
            if (CheckSamePath(path, claim) != Check.Free || _tree.IsCoveredBy(Layer.Held, path, claim.Mode, samePath: false))
            {
                throw Diverged($"the log grants {path}, which is held here");
            }
        }
        return paths;
    }

    /// <summary>
    /// Resources for a queued pool request in a queue pass, or null. Replaying a logged command, exactly the
    /// waiters the log says were granted are granted, with the logged resources; otherwise the engine chooses
    /// and notes the choice.
    /// </summary>
    private ResourcePath[]? ChooseForWaiter(Waiter waiter, in ClaimRequest claim)
    {
        if (Replaying)
        {
            return Recorded(waiter.Id, PoolDecision.Granted, _pass) is { } recorded ? ApplyRecordedGrant(recorded, claim) : null;
        }
        Deciding();
        var chosen = SelectFromPools(claim, waiter.Id);
        if (chosen is not null)
        {
            NoteGranted(waiter.Id, claim.Groups!);
        }
        return chosen;
    }

    /// <summary>A logged pool request: its recorded outcome, applied without matching.</summary>
    private AcquireResult ApplyRecordedAcquire(AcquireLease command, PoolChoice recorded, Session? session)
    {
        GroupClaim[] claims = [.. command.Groups!.Select(GroupClaim.Restore)];
        var claim = new ClaimRequest([], LockMode.Exclusive, 1, command.LockParents, command.LockChildren, command.Owner,
            command.SessionId, command.TtlMs, command.Token, command.Now, command.Now + command.WaitMs, claims, command.Principal);
        switch (recorded.Decision)
        {
            case PoolDecision.Granted:
                return new AcquireResult(ErrorCode.None, Grant(claim with { Paths = ApplyRecordedGrant(recorded, claim) }, command.Now, session), null);
            case PoolDecision.Queued:
                return new AcquireResult(ErrorCode.None, null, Enqueue(claim with { Paths = RecordedCandidates(recorded, claims) }, session));
            case PoolDecision.Reused when command.Owner is not null && FindReusable(command, claims) is { } held:
                return new AcquireResult(ErrorCode.None, RenewReused(held, command), null);
            default:
                throw Diverged($"the log says {recorded.Decision} for a pool request, which cannot be applied here");
        }
    }

    // InvalidDataException: the stored data cannot be applied, and the server says so and stops starting.
    private static InvalidDataException Diverged(string detail)
        => new($"replay went off the logged run: {detail}");
}

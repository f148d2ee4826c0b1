namespace Leasehold.Core;

public sealed partial class LockEngine
{
    /// <summary>Drains by path, in ordinal order: the listing and the snapshot come out the same on every run.</summary>
    private readonly SortedDictionary<string, Drain> _drains = new(StringComparer.Ordinal);

    // Set only while asking "would drains alone refuse this?"; never while a command changes state.
    private bool _ignoreDrains;

    /// <summary>The drained prefixes, by path.</summary>
    public IReadOnlyCollection<Drain> Drains => _drains.Values;

    /// <summary>The drain on exactly <paramref name="path"/>, if any.</summary>
    public Drain? GetDrain(ResourcePath path) => _drains.GetValueOrDefault(path.Value);

    /// <summary>
    /// The drain that keeps a lease on <paramref name="path"/> from being granted, or null: one on the path or an
    /// ancestor, or, when the lease would lock its children, one below it. O(depth), like every check.
    /// </summary>
    public Drain? DrainOver(ResourcePath path, bool lockChildren)
    {
        if (_drains.Count == 0 || _ignoreDrains)
        {
            return null;
        }
        var node = _tree.Root;
        if (node.Drain is { } atRoot)
        {
            return atRoot;
        }
        foreach (var segment in path.Segments)
        {
            node = node.Child(segment);
            if (node is null)
            {
                return null;
            }
            if (node.Drain is { } drain)
            {
                return drain;
            }
        }
        return lockChildren && node.DrainedBelow > 0 ? FirstDrainBelow(node) : null;
    }

    private bool IsDrained(ResourcePath path, bool lockChildren) => DrainOver(path, lockChildren) is not null;

    private Drain? DrainedPath(in ClaimRequest claim)
    {
        if (_drains.Count == 0)
        {
            return null;
        }
        foreach (var path in claim.Paths)
        {
            if (DrainOver(path, claim.LockChildren) is { } drain)
            {
                return drain;
            }
        }
        return null;
    }

    private static Drain FirstDrainBelow(LockNode node)
    {
        foreach (var key in node.Children!.Keys.Order(StringComparer.Ordinal))
        {
            var child = node.Children[key];
            if (child.Drain is { } drain)
            {
                return drain;
            }
            if (child.DrainedBelow > 0)
            {
                return FirstDrainBelow(child);
            }
        }
        throw new InvalidOperationException("a drain count says a drain lies below, but none does");
    }

    private static string DrainingDetail(Drain drain)
        => $"{drain.Path} is drained for maintenance (by {drain.Actor}); nothing is granted there until it is undrained";

    /// <summary>Would the pool request be granted now if nothing were drained? Then the drains alone refuse it.</summary>
    private bool DrainsDecided(in ClaimRequest claim)
    {
        if (_drains.Count == 0)
        {
            return false;
        }
        _ignoreDrains = true;
        try
        {
            return SelectFromPools(claim, long.MaxValue) is not null;
        }
        finally
        {
            _ignoreDrains = false;
        }
    }

    /// <summary>Drains a prefix (see <see cref="DrainPrefix"/>). Draining a drained prefix changes nothing and says so.</summary>
    public DrainResult Drain(DrainPrefix command)
    {
        if (CheckName(command.Actor, "actor") is { } error)
        {
            return new DrainResult(ErrorCode.InvalidArgument, null, false, error);
        }
        if (_drains.TryGetValue(command.Path.Value, out var existing))
        {
            return new DrainResult(ErrorCode.None, existing, false);
        }
        Changes++;
        var drain = new Drain(command.Path, ActorName(command.Actor), command.Now);
        AddDrain(drain);
        EmitPath(EventKind.Drained, command.Path, drain.Actor, command.Now);
        return new DrainResult(ErrorCode.None, drain, true);
    }

    /// <summary>Ends a drain and serves the waiters it held back.</summary>
    public OperationResult<Drain> Undrain(UndrainPrefix command)
    {
        if (CheckName(command.Actor, "actor") is { } error)
        {
            return OperationResult<Drain>.Fail(ErrorCode.InvalidArgument, error);
        }
        if (!_drains.Remove(command.Path.Value, out var drain))
        {
            return OperationResult<Drain>.Fail(ErrorCode.NotFound, $"{command.Path} is not drained");
        }
        Changes++;
        // Waiters held back by the drain (on it, below it, or above it locking their children) can go now;
        // the pass finds them in queue order.
        NoteFreed(drain.Path, 0);
        var node = _tree.Find(drain.Path)!;
        node.Drain = null;
        for (var ancestor = node.Parent; ancestor is not null; ancestor = ancestor.Parent)
        {
            ancestor.DrainedBelow--;
        }
        _tree.Prune(node);
        EmitPath(EventKind.Undrained, command.Path, ActorName(command.Actor), command.Now);
        ServeQueue(command.Now);
        return new OperationResult<Drain>(ErrorCode.None, drain);
    }

    private void AddDrain(Drain drain)
    {
        _drains.Add(drain.Path.Value, drain);
        var node = _tree.GetOrCreate(drain.Path);
        node.Drain = drain;
        for (var ancestor = node.Parent; ancestor is not null; ancestor = ancestor.Parent)
        {
            ancestor.DrainedBelow++;
        }
    }

    /// <summary>The name recorded for an administrator: the principal, or "anonymous" when security is off.</summary>
    private static string ActorName(string? actor) => actor ?? AnonymousActor;

    /// <summary>What the history and drains record as the actor when security is off.</summary>
    public const string AnonymousActor = "anonymous";
}

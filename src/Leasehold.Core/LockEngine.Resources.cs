using Leasehold.Core.Pools;

namespace Leasehold.Core;

public sealed partial class LockEngine
{
    /// <summary>Declares a resource or replaces its attributes. Holders are not disturbed.</summary>
    public OperationResult<DeclaredResource> Declare(DeclareResource command)
    {
        if (!DeclaredResource.TryParseAttributes(command.Attributes, out var attributes, out var error))
        {
            return OperationResult<DeclaredResource>.Fail(ErrorCode.InvalidArgument, error);
        }
        Changes++;
        var node = _tree.GetOrCreate(command.Path);
        if (node.Resource is { } existing)
        {
            existing.AttributesJson = command.Attributes;
            existing.Attributes = attributes;
        }
        else
        {
            node.Resource = new DeclaredResource { Path = command.Path, AttributesJson = command.Attributes, Attributes = attributes };
            _declaredCount++;
        }
        EmitPath(EventKind.Declared, command.Path, command.Attributes, command.Now);
        DeclarationsChanged(command.Path, command.Now);
        return new OperationResult<DeclaredResource>(ErrorCode.None, node.Resource);
    }

    /// <summary>Removes a declared resource; refused while it is held, so no holder is ever broken.</summary>
    public OperationResult<DeclaredResource> Remove(RemoveResource command)
    {
        var node = _tree.Find(command.Path);
        if (node?.Resource is not { } resource)
        {
            return OperationResult<DeclaredResource>.Fail(ErrorCode.NotFound, $"no resource is declared at {command.Path}");
        }
        if (node.Holders.Count > 0)
        {
            return OperationResult<DeclaredResource>.Fail(ErrorCode.ResourceBusy,
                $"{command.Path} is held by lease {node.Holders.First.Id}; release it first");
        }
        Changes++;
        node.Resource = null;
        _declaredCount--;
        _tree.Prune(node);
        EmitPath(EventKind.Removed, command.Path, null, command.Now);
        DeclarationsChanged(command.Path, command.Now);
        return new OperationResult<DeclaredResource>(ErrorCode.None, resource);
    }

    public DeclaredResource? GetDeclared(ResourcePath path) => _tree.Find(path)?.Resource;

    /// <summary>Declared resources at or under <paramref name="prefix"/>, in tree order.</summary>
    public IReadOnlyList<DeclaredResource> ListDeclared(ResourcePath prefix)
    {
        var found = new List<DeclaredResource>();
        if (_tree.Find(prefix) is { } node)
        {
            CollectDeclared(node, found);
        }
        return found;
    }

    private static void CollectDeclared(LockNode node, List<DeclaredResource> found)
    {
        if (node.Resource is { } resource)
        {
            found.Add(resource);
        }
        if (node.Children is null)
        {
            return;
        }
        foreach (var key in node.Children.Keys.Order(StringComparer.Ordinal))
        {
            CollectDeclared(node.Children[key], found);
        }
    }

    /// <summary>
    /// A declaration changed: pool waiters whose pools cover it get their candidates again (failing with
    /// <see cref="ErrorCode.NoMatch"/> if too few resources can ever match now), then the queue is served,
    /// since a new resource may satisfy someone.
    /// </summary>
    private void DeclarationsChanged(ResourcePath path, long now)
    {
        DeclarationChangedAt(path);
        var affected = _poolWaiters.Values.Where(w => w.Groups!.Any(g => g.Group.Pool.IsAncestorOrSelf(path))).ToList();
        foreach (var waiter in affected)
        {
            if (Replaying && (Recorded(waiter.Id, PoolDecision.Dropped) ?? Recorded(waiter.Id, PoolDecision.Refitted)) is { } recorded)
            {
                // Logged: apply it. (A waiter may also be granted later in the same command: that is its own entry.)
                if (recorded.Decision == PoolDecision.Dropped)
                {
                    DropUnservable(waiter, now);
                }
                else
                {
                    SetWaiterPaths(waiter, RecordedCandidates(recorded, waiter.Groups!));
                }
                continue;
            }
            Deciding();
            SetWaiterPaths(waiter, []);
            if (!CanEverBeServed(waiter.Groups!))
            {
                Note(waiter.Id, PoolDecision.Dropped);
                DropUnservable(waiter, now);
                continue;
            }
            var candidates = CandidatePaths(waiter.Groups!);
            NoteCandidates(waiter.Id, PoolDecision.Refitted, waiter.Groups!, candidates);
            SetWaiterPaths(waiter, candidates);
        }
        ServeQueue(now);
    }

    private void DropUnservable(Waiter waiter, long now)
    {
        Dequeue(waiter, DequeueReason.NoMatch, now);
        _outcomes.Add(new WaiterOutcome(waiter.Id, ErrorCode.NoMatch, null));
    }

    /// <summary>
    /// Moves a queued waiter's claims from its old paths to <paramref name="paths"/> (the queue index keeps
    /// each path's waiters oldest first: younger waiters may already be there). The younger waiters it held
    /// back on its old paths, and the waiter itself, become candidates of the next queue pass.
    /// </summary>
    private void SetWaiterPaths(Waiter waiter, ResourcePath[] paths)
    {
        waiter.IndexEpoch++;
        foreach (var old in waiter.Paths)
        {
            LockTree.RemoveWaiter(_tree.Find(old)!, waiter);
        }
        foreach (var old in waiter.Paths)
        {
            NoteFreed(old, waiter.Id);
            if (_tree.Find(old) is { } node)
            {
                _tree.Prune(node);
            }
        }
        waiter.Paths = paths;
        foreach (var path in paths)
        {
            LockTree.AddWaiter(_tree.GetOrCreate(path), waiter);
        }
        Consider(waiter);
    }
}

using Leasehold.Core.Pools;

namespace Leasehold.Core;

public sealed partial class LockEngine
{
    private readonly LinkedList<HistoryEntry> _history = new();

    /// <summary>Finished leases, oldest first (bounded by <see cref="EngineLimits.HistorySize"/>).</summary>
    public IEnumerable<HistoryEntry> History => _history;

    private void Record(Lease lease, EndReason reason, long now)
    {
        if (Limits.HistorySize <= 0)
        {
            return;
        }
        var requirements = lease.Groups is { } groups ? groups.Select(g => g.Requirement.Text).ToArray() : null;
        _history.AddLast(new HistoryEntry(lease.Id, lease.Fence, lease.Owner, lease.Paths, requirements,
            lease.AcquiredAt, lease.WaitedMs, now, reason));
        while (_history.Count > Limits.HistorySize)
        {
            _history.RemoveFirst();
        }
    }

    /// <summary>Finished leases touching <paramref name="prefix"/>, newest first, filtered by owner and end time.</summary>
    public IReadOnlyList<HistoryEntry> QueryHistory(ResourcePath prefix, string? owner, long since, long until, int max)
    {
        var found = new List<HistoryEntry>();
        for (var node = _history.Last; node is not null && found.Count < max; node = node.Previous)
        {
            var entry = node.Value;
            if (entry.EndedAt >= since && entry.EndedAt <= until
                && (owner is null || string.Equals(owner, entry.Owner, StringComparison.Ordinal))
                && entry.Paths.Any(prefix.IsAncestorOrSelf))
            {
                found.Add(entry);
            }
        }
        return found;
    }

    /// <summary>
    /// For each declared resource under <paramref name="prefix"/>: milliseconds held during
    /// [<paramref name="from"/>, <paramref name="to"/>], from the history and the current holders.
    /// History older than its bound is forgotten, so a window longer than the history under-counts.
    /// </summary>
    public IReadOnlyList<(DeclaredResource Resource, long HeldMs)> Utilization(ResourcePath prefix, long from, long to)
    {
        var held = ListDeclared(prefix).ToDictionary(r => r.Path, _ => 0L);
        void Add(ResourcePath path, long start, long end)
        {
            if (held.TryGetValue(path, out var sum))
            {
                held[path] = sum + Math.Max(0, Math.Min(end, to) - Math.Max(start, from));
            }
        }
        foreach (var entry in _history)
        {
            foreach (var path in entry.Paths)
            {
                Add(path, entry.AcquiredAt, entry.EndedAt);
            }
        }
        foreach (var lease in _leases.Values)
        {
            foreach (var path in lease.Paths)
            {
                Add(path, lease.AcquiredAt, to);
            }
        }
        return [.. ListDeclared(prefix).Select(r => (r, held[r.Path]))];
    }
}

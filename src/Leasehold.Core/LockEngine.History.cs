using Leasehold.Core.Pools;

namespace Leasehold.Core;

public sealed partial class LockEngine
{
    // A ring of the newest entries: grows by doubling up to HistorySize, then overwrites the oldest.
    private HistoryEntry[] _history = [];
    private int _historyStart;
    private int _historyCount;

    // The weights (HistoryEntry.Weight) of the entries in the ring, summed: kept under Limits.HistoryBytes.
    private long _historyBytes;

    // Each ring slot's weight, kept beside it: forgetting the oldest entry does not read its (long cold) paths again.
    private long[] _historyWeights = [];

    /// <summary>Finished leases, oldest first (bounded by <see cref="EngineLimits.HistorySize"/>).</summary>
    public IEnumerable<HistoryEntry> History
    {
        get
        {
            for (var i = 0; i < _historyCount; i++)
            {
                yield return HistoryAt(i);
            }
        }
    }

    /// <summary>The <paramref name="i"/>-th entry, oldest first.</summary>
    private HistoryEntry HistoryAt(int i) => _history[(_historyStart + i) % _history.Length];

    private void AppendHistory(in HistoryEntry entry)
    {
        if (Limits.HistorySize <= 0 || Limits.HistoryBytes <= 0)
        {
            // Nothing kept (a snapshot's history restored under these limits included).
            return;
        }
        // The oldest go first while the new one would not fit the byte budget (counted from the entries alone, so every
        // replay and replica forgets the same ones).
        var weight = entry.Weight;
        while (_historyCount > 0 && _historyBytes + weight > Limits.HistoryBytes)
        {
            _historyBytes -= _historyWeights[_historyStart];
            _history[_historyStart] = default;
            _historyStart = (_historyStart + 1) % _history.Length;
            _historyCount--;
        }
        _historyBytes += weight;
        if (_historyCount == _history.Length && _history.Length < Limits.HistorySize)
        {
            var grown = new HistoryEntry[Math.Min(Limits.HistorySize, Math.Max(16, _history.Length * 2))];
            var grownWeights = new long[grown.Length];
            for (var i = 0; i < _historyCount; i++)
            {
                var slot = (_historyStart + i) % _history.Length;
                grown[i] = _history[slot];
                grownWeights[i] = _historyWeights[slot];
            }
            (_history, _historyWeights) = (grown, grownWeights);
            _historyStart = 0;
        }
        if (_historyCount < _history.Length)
        {
            var free = (_historyStart + _historyCount) % _history.Length;
            _history[free] = entry;
            _historyWeights[free] = weight;
            _historyCount++;
            return;
        }
        _historyBytes -= _historyWeights[_historyStart];
        _history[_historyStart] = entry;
        _historyWeights[_historyStart] = weight;
        _historyStart = (_historyStart + 1) % _history.Length;
    }

    private void Record(Lease lease, EndReason reason, long now, string? endedBy)
    {
        if (Limits.HistorySize <= 0 || Limits.HistoryBytes <= 0)
        {
            return;
        }
        var requirements = lease.Groups is { } groups ? groups.Select(g => g.Requirement.Text).ToArray() : null;
        AppendHistory(new HistoryEntry(lease.Id, lease.Fence, lease.Owner, lease.Paths, requirements,
            lease.AcquiredAt, lease.WaitedMs, now, reason, lease.Principal, endedBy));
    }

    /// <summary>Finished leases touching <paramref name="prefix"/>, newest first, filtered by owner and end time.</summary>
    public IReadOnlyList<HistoryEntry> QueryHistory(ResourcePath prefix, string? owner, long since, long until, int max)
    {
        var found = new List<HistoryEntry>();
        for (var i = _historyCount - 1; i >= 0 && found.Count < max; i--)
        {
            var entry = HistoryAt(i);
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
        foreach (var entry in History)
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

using System.Collections;

namespace Leasehold.Core;

/// <summary>
/// Waiters of one kind on one tree node (say, exclusive waiters on exactly this path that lock their
/// children), oldest first. Leaving is lazy: a waiter that leaves (or whose claims move) gets a new
/// <see cref="Waiter.IndexEpoch"/>, which makes its entries stale at once; stale entries are trimmed from
/// both ends on every removal and the array is compacted when they outnumber the live ones, so removal
/// is O(1) amortized wherever the waiter sits, and the first entry is always live (the oldest waiter of
/// the kind, read in O(1)). Arrival order is id order, so adding is an append, except for a pool waiter
/// whose candidates changed (its claims move to new paths), which is inserted at its place.
/// </summary>
internal sealed class WaiterRun
{
    internal readonly record struct Entry(Waiter Waiter, int Epoch)
    {
        public bool IsLive => Waiter.IndexEpoch == Epoch;
    }

    private Entry[] _items = new Entry[4];
    private int _head;
    private int _tail;

    /// <summary>Live entries (claims counted here).</summary>
    public int Live { get; private set; }

    /// <summary>
    /// The id of the oldest live waiter, or <see cref="long.MaxValue"/> when there is none (the first entry is
    /// live whenever no removal is under way).
    /// </summary>
    public long MinId => _head < _tail ? _items[_head].Waiter.Id : long.MaxValue;

    /// <summary>Entries in id order, stale ones included (check <see cref="Entry.IsLive"/>).</summary>
    public ReadOnlySpan<Entry> Entries => _items.AsSpan(_head, _tail - _head);

    public void Add(Waiter waiter)
    {
        if (_tail == _items.Length)
        {
            MakeRoom();
        }
        var at = _tail;
        while (at > _head && _items[at - 1].Waiter.Id > waiter.Id)
        {
            at--;
        }
        if (at < _tail)
        {
            Array.Copy(_items, at, _items, at + 1, _tail - at);
        }
        _items[at] = new Entry(waiter, waiter.IndexEpoch);
        _tail++;
        Live++;
    }

    /// <summary>One claim counted here left; its waiter's epoch has already moved on.</summary>
    public void Remove()
    {
        Live--;
        if (Live == 0)
        {
            Array.Clear(_items, _head, _tail - _head);
            _head = _tail = 0;
            return;
        }
        // (A waiter with several claims here is removed claim by claim: until the last, all its entries are
        // stale while Live still counts some of them, so the trimming may empty the run early.)
        while (_head < _tail && !_items[_head].IsLive)
        {
            _items[_head++] = default;
        }
        while (_tail > _head && !_items[_tail - 1].IsLive)
        {
            _items[--_tail] = default;
        }
        if (_tail - _head > (2 * Live) + 8)
        {
            Compact();
        }
    }

    /// <summary>Index of the first entry (in <see cref="Entries"/>) whose id is above <paramref name="id"/>.</summary>
    public int FirstAbove(long id)
    {
        int lo = _head, hi = _tail;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_items[mid].Waiter.Id <= id)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo - _head;
    }

    // Full: compact in place when at most half the entries are live, otherwise into an array twice as large.
    private void MakeRoom()
    {
        if (Live > _items.Length / 2)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }
        Compact();
    }

    private void Compact()
    {
        var kept = 0;
        for (var i = _head; i < _tail; i++)
        {
            if (_items[i].IsLive)
            {
                _items[kept++] = _items[i];
            }
        }
        Array.Clear(_items, kept, _tail - kept);
        _head = 0;
        _tail = kept;
    }
}

/// <summary>
/// Leases holding exactly one path, in grant order. Leaving is lazy, as for <see cref="WaiterRun"/>: an
/// ended lease is marked (<see cref="Lease.Ended"/>), dead entries are trimmed from both ends and compacted
/// when they outnumber the live ones, so releasing one of many shared holders is O(1) amortized, not a
/// search of the list; enumeration skips the dead.
/// </summary>
internal sealed class HolderList : IEnumerable<Lease>
{
    private Lease[] _items = [];
    private int _head;
    private int _tail;

    /// <summary>Leases holding the path now.</summary>
    public int Count { get; private set; }

    /// <summary>The oldest holder (Count must be above 0).</summary>
    public Lease First => _items[_head];

    public void Add(Lease lease)
    {
        if (_tail == _items.Length)
        {
            // Full: compact in place when at most half the entries are live, otherwise into an array twice as large.
            if (Count >= _items.Length / 2)
            {
                Array.Resize(ref _items, Math.Max(4, _items.Length * 2));
            }
            Compact();
        }
        _items[_tail++] = lease;
        Count++;
    }

    /// <summary>A holder of the path ended (<see cref="Lease.Ended"/> is already set).</summary>
    public void Remove()
    {
        Count--;
        if (Count == 0)
        {
            Array.Clear(_items, _head, _tail - _head);
            _head = _tail = 0;
            return;
        }
        while (_items[_head].Ended)
        {
            _items[_head++] = null!;
        }
        while (_items[_tail - 1].Ended)
        {
            _items[--_tail] = null!;
        }
        if (_tail - _head > (2 * Count) + 8)
        {
            Compact();
        }
    }

    private void Compact()
    {
        var kept = 0;
        for (var i = _head; i < _tail; i++)
        {
            if (!_items[i].Ended)
            {
                _items[kept++] = _items[i];
            }
        }
        Array.Clear(_items, kept, _tail - kept);
        _head = 0;
        _tail = kept;
    }

    public Enumerator GetEnumerator() => new(this);

    IEnumerator<Lease> IEnumerable<Lease>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public struct Enumerator(HolderList list) : IEnumerator<Lease>
    {
        private int _at = list._head - 1;

        public readonly Lease Current => list._items[_at];

        readonly object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            while (++_at < list._tail)
            {
                if (!list._items[_at].Ended)
                {
                    return true;
                }
            }
            return false;
        }

        public void Reset() => _at = list._head - 1;

        public readonly void Dispose()
        {
        }
    }
}

namespace Leasehold.Core;

/// <summary>
/// The engine's timed things (leases, sessions, waiters) by deadline, earliest first, ties in (kind, id) order so that
/// expiry is applied in the same order on every replay and replica. Each thing has at most one entry, which its
/// <see cref="ITimed.DeadlineSlot"/> finds: a renewed deadline moves in place and an ended thing leaves at once, so
/// the heap holds what is live, not every deadline ever set (a lease released long before its ttl no longer stays,
/// nor wakes the timer, until the time it would have expired).
/// </summary>
internal sealed class DeadlineHeap
{
    private Entry[] _items = new Entry[16];
    private int _count;

    public int Count => _count;

    /// <summary>The earliest entry, if any.</summary>
    public bool TryPeek(out DeadlineKind kind, out long id, out long at)
    {
        if (_count == 0)
        {
            (kind, id, at) = (default, 0, 0);
            return false;
        }
        ref var first = ref _items[0];
        (kind, id, at) = (first.Kind, first.Id, first.At);
        return true;
    }

    /// <summary>Puts <paramref name="owner"/>'s deadline at <paramref name="at"/>: added, or moved when it has one.</summary>
    public void Set(ITimed owner, DeadlineKind kind, long id, long at)
    {
        var slot = SlotOf(owner);
        if (slot >= 0)
        {
            var earlier = Less(at, kind, id, in _items[slot]);
            _items[slot].At = at;
            if (earlier)
            {
                Up(slot);
            }
            else
            {
                Down(slot);
            }
            return;
        }
        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }
        _items[_count] = new Entry { At = at, Kind = kind, Id = id, Owner = owner };
        owner.DeadlineSlot = _count + 1;
        _count++;
        Up(_count - 1);
    }

    /// <summary>Takes <paramref name="owner"/>'s deadline out, if it has one.</summary>
    public void Remove(ITimed owner)
    {
        var slot = SlotOf(owner);
        if (slot >= 0)
        {
            RemoveAt(slot);
        }
    }

    /// <summary>Takes the earliest entry out.</summary>
    public void Pop() => RemoveAt(0);

    /// <summary>
    /// Where <paramref name="owner"/>'s entry is in this heap, or -1. Checked, not trusted: an engine restored from
    /// another's captured state without a copy (tests do) shares its objects, whose slot may be the other heap's. An
    /// entry whose owner's slot was taken over so is never found again: it stays until its time, when the engine's
    /// guard (the owner's current deadline) skips it.
    /// </summary>
    private int SlotOf(ITimed owner)
    {
        var slot = owner.DeadlineSlot - 1;
        return slot >= 0 && slot < _count && ReferenceEquals(_items[slot].Owner, owner) ? slot : -1;
    }

    private void RemoveAt(int slot)
    {
        _items[slot].Owner.DeadlineSlot = 0;
        _count--;
        if (slot == _count)
        {
            _items[_count] = default;
            return;
        }
        _items[slot] = _items[_count];
        _items[_count] = default;
        _items[slot].Owner.DeadlineSlot = slot + 1;
        // The entry moved in from the end may belong above or below the hole.
        if (slot > 0 && Less(in _items[slot], in _items[(slot - 1) / 2]))
        {
            Up(slot);
        }
        else
        {
            Down(slot);
        }
        if (_items.Length > 64 && _count < _items.Length / 4)
        {
            // Give back what a burst took (at half, so that a count going up and down around a boundary does not resize each time).
            Array.Resize(ref _items, _items.Length / 2);
        }
    }

    private void Up(int slot)
    {
        var entry = _items[slot];
        while (slot > 0)
        {
            var parent = (slot - 1) / 2;
            if (!Less(in entry, in _items[parent]))
            {
                break;
            }
            Place(slot, _items[parent]);
            slot = parent;
        }
        Place(slot, entry);
    }

    private void Down(int slot)
    {
        var entry = _items[slot];
        while (true)
        {
            var child = (2 * slot) + 1;
            if (child >= _count)
            {
                break;
            }
            if (child + 1 < _count && Less(in _items[child + 1], in _items[child]))
            {
                child++;
            }
            if (!Less(in _items[child], in entry))
            {
                break;
            }
            Place(slot, _items[child]);
            slot = child;
        }
        Place(slot, entry);
    }

    private void Place(int slot, Entry entry)
    {
        _items[slot] = entry;
        entry.Owner.DeadlineSlot = slot + 1;
    }

    private static bool Less(in Entry a, in Entry b) => Less(a.At, a.Kind, a.Id, in b);

    private static bool Less(long at, DeadlineKind kind, long id, in Entry b)
        => at != b.At ? at < b.At : kind != b.Kind ? kind < b.Kind : id < b.Id;

    private struct Entry
    {
        public long At;
        public DeadlineKind Kind;
        public long Id;
        public ITimed Owner;
    }
}

/// <summary>What is timed (its deadline's kind).</summary>
internal enum DeadlineKind : byte
{
    Lease,
    Session,
    Waiter,
}

/// <summary>Something with at most one entry in a <see cref="DeadlineHeap"/>.</summary>
internal interface ITimed
{
    /// <summary>Where its entry is, plus one; 0 when it has none. Only the heap sets it.</summary>
    int DeadlineSlot { get; set; }
}

namespace Leasehold.Core.Tests;

/// <summary>The deadline heap against a sorted set of the same entries, under seeded random sets, moves, removals and pops.</summary>
public class DeadlineHeapTests
{
    private sealed class Thing(long id) : ITimed
    {
        public long Id { get; } = id;

        public int DeadlineSlot { get; set; }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(42)]
    [InlineData(2026)]
    public void Pops_in_deadline_kind_and_id_order_whatever_was_set_moved_or_removed(int seed)
    {
        var random = new Random(seed);
        var heap = new DeadlineHeap();
        var things = Enumerable.Range(1, 300).Select(i => new Thing(i)).ToArray();
        var kinds = new DeadlineKind[things.Length];
        var model = new SortedSet<(long At, DeadlineKind Kind, long Id)>();
        var current = new Dictionary<long, (long At, DeadlineKind Kind, long Id)>();
        for (var step = 0; step < 20_000; step++)
        {
            var thing = things[random.Next(things.Length)];
            switch (random.Next(10))
            {
                case < 5:
                {
                    // Set or move; few distinct times, so ties between kinds and ids are common.
                    var at = random.Next(50);
                    if (!current.ContainsKey(thing.Id))
                    {
                        kinds[thing.Id - 1] = (DeadlineKind)random.Next(3);
                    }
                    var entry = ((long)at, kinds[thing.Id - 1], thing.Id);
                    if (current.Remove(thing.Id, out var old))
                    {
                        model.Remove(old);
                    }
                    current[thing.Id] = entry;
                    model.Add(entry);
                    heap.Set(thing, entry.Item2, thing.Id, at);
                    break;
                }
                case < 8:
                    if (current.Remove(thing.Id, out var removed))
                    {
                        model.Remove(removed);
                    }
                    heap.Remove(thing);
                    break;
                default:
                {
                    Assert.Equal(model.Count > 0, heap.TryPeek(out var kind, out var id, out var at));
                    if (model.Count == 0)
                    {
                        break;
                    }
                    Assert.Equal(model.Min, (at, kind, id));
                    heap.Pop();
                    model.Remove(model.Min);
                    current.Remove(id);
                    Assert.Equal(0, things[id - 1].DeadlineSlot);
                    break;
                }
            }
            Assert.Equal(model.Count, heap.Count);
        }
        // Drained, every entry comes out in order, and nothing is left marked as in the heap.
        while (model.Count > 0)
        {
            Assert.True(heap.TryPeek(out var kind, out var id, out var at));
            Assert.Equal(model.Min, (at, kind, id));
            model.Remove(model.Min);
            heap.Pop();
        }
        Assert.False(heap.TryPeek(out _, out _, out _));
        Assert.All(things, t => Assert.Equal(0, t.DeadlineSlot));
    }

    [Fact]
    public void A_thing_set_in_another_heap_is_added_here_not_moved()
    {
        // Engines restored from another's captured state without a copy share its objects (tests do): the slot a
        // thing carries may be the other heap's, and this heap must not move whatever sits there.
        var first = new DeadlineHeap();
        var second = new DeadlineHeap();
        var a = new Thing(1);
        var b = new Thing(2);
        first.Set(a, DeadlineKind.Lease, 1, 10);
        Assert.Equal(1, a.DeadlineSlot);
        // b takes slot 1 of the second heap, the slot a carries from the first: a is not b's entry to move.
        second.Set(b, DeadlineKind.Lease, 2, 20);
        Assert.Equal(1, b.DeadlineSlot);
        second.Set(a, DeadlineKind.Lease, 1, 1);
        Assert.Equal(2, second.Count);
        Assert.True(second.TryPeek(out _, out var id, out var at));
        Assert.Equal((1L, 1L), (id, at));
        second.Pop();
        Assert.True(second.TryPeek(out _, out id, out at));
        Assert.Equal((2L, 20L), (id, at));
    }
}

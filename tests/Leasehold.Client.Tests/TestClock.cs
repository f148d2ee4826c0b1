using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace Leasehold.Client.Tests;

/// <summary>
/// A fake clock for the client (<see cref="LeaseholdClientOptions.TimeProvider"/>) that also records every timer armed on
/// it: a test waits (in real time, bounded) until the client has armed the wait it expects, and only then moves time on,
/// so that no advance can slip in before the timer it should fire exists. Only the client's time is fake: the server runs
/// on the real clock.
/// </summary>
public sealed class TestClock : FakeTimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<TimeSpan> _armed = [];

    /// <summary>Every finite due time a timer was created or changed with, in order.</summary>
    public IReadOnlyList<TimeSpan> Armed
    {
        get
        {
            lock (_gate)
            {
                return [.. _armed];
            }
        }
    }

    /// <summary>How much fake time has passed since the clock was made.</summary>
    public TimeSpan Elapsed => GetUtcNow() - Start;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        // Recorded only once the timer exists: a test that sees the record and advances the clock must find the timer
        // already counting, or the advance would slip in before it and the timer would wait a whole due time more.
        var timer = new RecordingTimer(this, base.CreateTimer(callback, state, dueTime, period));
        Record(dueTime);
        return timer;
    }

    private void Record(TimeSpan dueTime)
    {
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            lock (_gate)
            {
                _armed.Add(dueTime);
            }
        }
    }

    /// <summary>How many timers were armed with a due time <paramref name="match"/> accepts so far.</summary>
    public int CountArmed(Func<TimeSpan, bool> match)
    {
        lock (_gate)
        {
            return _armed.Count(match);
        }
    }

    /// <summary>
    /// Waits (real time, at most <paramref name="within"/>) until a timer is armed with a due time <paramref name="match"/>
    /// accepts for the <paramref name="count"/>th time; returns that due time.
    /// </summary>
    public async Task<TimeSpan> WaitArmedAsync(Func<TimeSpan, bool> match, int count, string what, TimeSpan? within = null)
    {
        var bound = within ?? ClientTestServer.Timeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            lock (_gate)
            {
                var matching = _armed.Where(match).ToList();
                if (matching.Count >= count)
                {
                    return matching[count - 1];
                }
            }
            Assert.True(clock.Elapsed < bound,
                $"{what}: not armed {count} times within {bound.TotalSeconds} s; armed (ms): {string.Join(", ", Armed.Select(d => d.TotalMilliseconds))}");
            await Task.Delay(TimeSpan.FromMilliseconds(5));
        }
    }

    /// <summary>Waits as <see cref="WaitArmedAsync(Func{TimeSpan, bool}, int, string, TimeSpan?)"/> for a due time of exactly <paramref name="due"/>.</summary>
    public Task<TimeSpan> WaitArmedAsync(TimeSpan due, int count, string what) => WaitArmedAsync(d => d == due, count, what);

    private sealed class RecordingTimer(TestClock clock, ITimer inner) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            var changed = inner.Change(dueTime, period);
            clock.Record(dueTime);
            return changed;
        }

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}

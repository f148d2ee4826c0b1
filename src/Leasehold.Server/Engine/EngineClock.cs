namespace Leasehold.Server.Engine;

/// <summary>
/// The time the host stamps on commands: Unix milliseconds read from the wall clock once, at start, and
/// advanced from then on by the monotonic clock only. A step of the wall clock (an NTP correction, an
/// operator's <c>date -s</c>) therefore neither ends nor extends a lease, a session or a wait; live
/// deadlines are all "stamp + duration" on this clock. Times shown to clients are on it too, so after a
/// step they differ from the machine's wall clock by the size of the step until the next restart.
/// </summary>
public sealed class EngineClock
{
    private readonly TimeProvider _time;
    private readonly long _origin;
    private readonly long _start;

    /// <param name="time">The clock: its wall time is read once, its monotonic time from then on.</param>
    /// <param name="notBefore">The latest time the recovered data records: the time line starts no earlier, so
    /// a wall clock that went back while the server was down cannot stretch a recovered deadline.</param>
    public EngineClock(TimeProvider time, long notBefore = 0)
        : this(time, Math.Max(time.GetUtcNow().ToUnixTimeMilliseconds(), notBefore), time.GetTimestamp())
    {
    }

    private EngineClock(TimeProvider time, long origin, long start)
    {
        _time = time;
        _origin = origin;
        _start = start;
    }

    /// <summary>
    /// A time line that continues another exactly, without reading the wall clock: it reads
    /// <paramref name="then"/> at the monotonic <paramref name="thenTimestamp"/> of <paramref name="time"/>.
    /// A cluster's new leader continues the time of the last command it applied this way (docs/cluster.md).
    /// </summary>
    public static EngineClock Continuing(TimeProvider time, long then, long thenTimestamp) => new(time, then, thenTimestamp);

    /// <summary>Unix milliseconds on the monotonic time line anchored at start.</summary>
    public long Now => _origin + (long)_time.GetElapsedTime(_start).TotalMilliseconds;
}

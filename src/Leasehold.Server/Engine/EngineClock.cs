namespace Leasehold.Server.Engine;

/// <summary>
/// The time the host stamps on commands: Unix milliseconds read from the wall clock once, at start, and
/// advanced from then on by the monotonic clock only. A step of the wall clock (an NTP correction, an
/// operator's <c>date -s</c>) therefore neither ends nor extends a lease, a session or a wait; live
/// deadlines are all "stamp + duration" on this clock. Times shown to clients are on it too, so after a
/// step they differ from the machine's wall clock by the size of the step until the next restart.
/// </summary>
/// <param name="time">The clock: its wall time is read once, its monotonic time from then on.</param>
/// <param name="notBefore">The latest time the recovered data records: the time line starts no earlier, so
/// a wall clock that went back while the server was down cannot stretch a recovered deadline.</param>
public sealed class EngineClock(TimeProvider time, long notBefore = 0)
{
    private readonly long _origin = Math.Max(time.GetUtcNow().ToUnixTimeMilliseconds(), notBefore);
    private readonly long _start = time.GetTimestamp();

    /// <summary>Unix milliseconds on the monotonic time line anchored at start.</summary>
    public long Now => _origin + (long)time.GetElapsedTime(_start).TotalMilliseconds;
}

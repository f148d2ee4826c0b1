using System.Diagnostics;
using Leasehold.Client;
using Leasehold.Protocol;

namespace Leasehold.DistributedLock;

/// <summary>The family's timeouts on Leasehold's waits: a zero timeout tries once, an infinite one waits in turns of a day.</summary>
internal static class Acquisition
{
    /// <summary>The longest wait the server takes in one request (<c>wait</c> is at most 86,400 s).</summary>
    internal static readonly TimeSpan MaxWait = TimeSpan.FromDays(1);

    /// <summary>The family's rule: zero or more, or <see cref="Timeout.InfiniteTimeSpan"/>; at most <see cref="int.MaxValue"/> ms.</summary>
    internal static TimeSpan Check(TimeSpan timeout, string name = "timeout")
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return timeout;
        }
        if (timeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, timeout, "a timeout is zero or more, or Timeout.InfiniteTimeSpan");
        }
        if (timeout.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(name, timeout, $"a timeout is at most {int.MaxValue} ms");
        }
        return timeout;
    }

    /// <summary>Null (the default of <c>Acquire</c>) means infinite.</summary>
    internal static TimeSpan Check(TimeSpan? timeout) => timeout is { } t ? Check(t) : Timeout.InfiniteTimeSpan;

    /// <summary>What is left of <paramref name="timeout"/> since <paramref name="started"/> (a Stopwatch timestamp); never negative.</summary>
    internal static TimeSpan Remaining(TimeSpan timeout, long started)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return timeout;
        }
        var left = timeout - Stopwatch.GetElapsedTime(started);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>
    /// Acquires <paramref name="request"/>, queueing on the server for at most <paramref name="timeout"/>; null when not
    /// granted in that time (<c>locked</c>, or <c>draining</c>: the path is out of service). A timeout longer than the
    /// server's longest wait is waited for in turns, each a new request at the back of the queue. A cancelled wait is
    /// withdrawn on the server, and a grant that crosses the cancellation is released (its session is closed).
    /// </summary>
    internal static async Task<LeaseHandle?> TryAcquireAsync(LeaseholdClient client, AcquireOptions request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var left = Remaining(timeout, started);
            var last = left != Timeout.InfiniteTimeSpan && left <= MaxWait;
            try
            {
                var lease = await client.TryAcquireAsync(request with { Wait = last ? left : MaxWait }, cancellationToken).ConfigureAwait(false);
                if (lease is not null || last)
                {
                    return lease;
                }
            }
            catch (LeaseholdException ex) when (ex.Code == ErrorCodes.Draining)
            {
                // A try on a drained path: not available now, as for a held one.
                if (last)
                {
                    return null;
                }
            }
        }
    }

    /// <summary>The family's synchronous forms: the asynchronous ones, waited for (they never need the caller's context).</summary>
    internal static T Wait<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();

    internal static void Wait(ValueTask task)
    {
        if (!task.IsCompletedSuccessfully)
        {
            task.AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>The family's <see cref="TimeoutException"/> for an <c>Acquire</c> not granted in time.</summary>
    internal static TimeoutException TimedOut(object primitive, string name, TimeSpan timeout)
        => new($"Timed out after {timeout} acquiring {primitive.GetType().Name} '{name}'");
}

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
    /// server's longest wait is waited for in turns, each a new request at the back of the queue. A request that fails
    /// for want of an answer (one cut short again and again by a proxy that closes long requests uses up the client's
    /// retries) is followed by a new one while time is left, as long as the server answers at all.
    /// A cancelled wait is withdrawn on the server. Nothing is left held only with sessions (no <c>Ttl</c>, the default):
    /// a grant that crosses the cancellation, or a failed request, is released when its session is closed. With a
    /// <c>Ttl</c> there is no session: over HTTP the server drops a waiting request only when it notices the closed
    /// connection, and a lease granted as the request was given up stays held, unrenewed, until its ttl runs out.
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
            catch (LeaseholdUnavailableException) when (Remaining(timeout, started) != TimeSpan.Zero && !cancellationToken.IsCancellationRequested)
            {
                // The client's retries count from a request's first failure, so a wait cut short by the network again and
                // again ends as unavailable although the server is there. Then a new request, for what is left of the
                // time; a server that does not answer now either is the caller's to hear of.
                if (!await AnswersAsync(client, request, cancellationToken).ConfigureAwait(false))
                {
                    throw;
                }
            }
        }
    }

    /// <summary>Whether the server answers now (a refusal is an answer).</summary>
    private static async Task<bool> AnswersAsync(LeaseholdClient client, AcquireOptions request, CancellationToken cancellationToken)
    {
        try
        {
            await client.GetResourceAsync(request.Paths.Count > 0 ? request.Paths[0] : "/", cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (LeaseholdUnavailableException)
        {
            return false;
        }
        catch (LeaseholdException)
        {
            return true;
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

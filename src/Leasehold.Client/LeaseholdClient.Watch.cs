using System.Runtime.CompilerServices;
using Leasehold.Client.Transport;
using Leasehold.Protocol;

namespace Leasehold.Client;

public sealed partial class LeaseholdClient
{
    /// <summary>The longest pause before resuming a stream that ended without giving anything.</summary>
    private static readonly TimeSpan MaxWatchPause = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Every change under <paramref name="prefix"/>, as it happens (docs/events.md): over the native protocol's WATCH on
    /// <c>leasehold://</c> servers, over Server-Sent Events on <c>http(s)://</c>. The enumeration does not end on its own:
    /// when the server cuts the stream off (a slow consumer, a restart, a new leader) or the connection is lost, it
    /// resumes by itself after the last revision it yielded, on this server or the next of the list, so no event is
    /// missed. When the server no longer keeps the events after that revision, it yields a <c>reset</c> event
    /// (<see cref="LeaseholdEvent.IsReset"/>: drop what you knew) and then a <c>snapshot</c> of the state. Cut-offs are
    /// not yielded. A stream that goes silent (over HTTP: no event and no keep-alive for twice the server's keep-alive interval
    /// and 5 s more; over the native protocol: the connection's heartbeat) is taken for lost and resumed the same way.
    /// Cancel <paramref name="cancellationToken"/> (or stop enumerating) to end it; the server's stream ends too.
    /// The first stream is opened with the client's retries and failover (<see cref="LeaseholdClientOptions.Retries"/>):
    /// an unreachable server list or a refusal throws. Once a stream was had, a server that cannot be reached, or answers
    /// 503, is tried again every 2 seconds until it can be, and the enumeration goes on from where it was.
    /// </summary>
    /// <param name="prefix">Only events touching a path at or under it; <c>/</c> (the default) for every event, sessions' included.</param>
    /// <param name="options">A snapshot first, or the revision to resume after; null: changes from now on.</param>
    /// <param name="cancellationToken">Ends the enumeration.</param>
    /// <exception cref="LeaseholdException">The server refused the stream (<c>invalid-path</c>, <c>forbidden</c>, ...).</exception>
    /// <exception cref="LeaseholdUnavailableException">No server could be reached for the first stream within the client's retries.</exception>
    public async IAsyncEnumerable<LeaseholdEvent> WatchAsync(string prefix = "/", WatchOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var after = options?.After;
        // A snapshot asked for is asked for again until it came (a stream lost before it).
        var snapshot = options?.Snapshot ?? false;
        var quiet = 0;
        // Whether a stream was had: from then on, failing to get the next one is waited out rather than thrown.
        var watching = false;
        while (true)
        {
            Reply<EventSource> reply;
            try
            {
                reply = await WithFailoverAsync((endpoint, ct) => OpenEventsAsync(endpoint, prefix, after, snapshot, ct), cancellationToken).ConfigureAwait(false);
            }
            catch (LeaseholdUnavailableException) when (watching)
            {
                // Once watching, an outage is waited out (a restart, an election): the enumeration goes on after it.
                reply = Reply<EventSource>.Refused(Transport.Problems.Unexpected(503, "unavailable"));
            }
            if (reply.Problem is { } problem)
            {
                if (!watching || problem.Status != 503)
                {
                    throw LeaseholdException.From(problem);
                }
                await Task.Delay(MaxWatchPause, _time, cancellationToken).ConfigureAwait(false);
                continue;
            }
            watching = true;
            var yielded = false;
            await using (var source = reply.Value!)
            {
                if (after is null && !snapshot && source.Start >= 0)
                {
                    // Nothing seen yet: a stream lost before its first event resumes from where this one started.
                    after = source.Start;
                }
                while (true)
                {
                    byte[]? json;
                    try
                    {
                        json = await source.NextAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (IsTransportFailure(ex, cancellationToken))
                    {
                        // Lost: resumed below.
                        break;
                    }
                    if (json is null || LeaseholdEvent.Parse(json) is not { } e)
                    {
                        break;
                    }
                    if (e.Type == EventTypes.CutOff)
                    {
                        // The server ended the stream: resumed below, from the last revision yielded.
                        break;
                    }
                    if (e.IsSnapshot)
                    {
                        snapshot = false;
                        after = e.Revision;
                    }
                    else if (!e.IsReset)
                    {
                        after = e.Revision;
                    }
                    yielded = true;
                    yield return e;
                }
            }
            // A stream that gives nothing and ends (a server cutting every stream off as it stops): a growing pause.
            quiet = yielded ? 0 : quiet + 1;
            if (quiet > 0)
            {
                var pause = TimeSpan.FromMilliseconds(50 * (1 << Math.Min(quiet, 6)));
                await Task.Delay(pause < MaxWatchPause ? pause : MaxWatchPause, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private Task<Reply<EventSource>> OpenEventsAsync(Endpoint endpoint, string prefix, long? after, bool snapshot, CancellationToken cancellationToken)
        => endpoint switch
        {
            NativeEndpoint native => NativeWatch.OpenAsync(native, prefix, after, snapshot, cancellationToken),
            _ => HttpEventSource.OpenAsync(_http, endpoint.Address, prefix, after, snapshot, _time, cancellationToken),
        };
}

using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Leasehold.Protocol;

namespace Leasehold.Client.Transport;

/// <summary>
/// <c>GET /v1/events</c> as Server-Sent Events (docs/events.md): each message's <c>data</c> (its lines joined), comments
/// (keep-alives) skipped. The answer's <c>Leasehold-Revision</c> header is where the stream starts. When the answer says
/// how often the server breaks silence (<c>Leasehold-Keep-Alive</c>), a stream that brings nothing, not even a comment,
/// for <see cref="SilenceLimit"/> is taken for lost: a connection dropped without a reset (a dead proxy, a network
/// partition) would otherwise leave the reader waiting for good.
/// </summary>
internal sealed class HttpEventSource : EventSource
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;
    private readonly long _start;
    private readonly TimeSpan? _silence;
    private readonly CancellationTokenSource? _silent;

    private HttpEventSource(HttpResponseMessage response, StreamReader reader, long start, TimeSpan? silence, TimeProvider time)
    {
        _response = response;
        _reader = reader;
        _start = start;
        _silence = silence;
        _silent = silence is null ? null : new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
    }

    public override long Start => _start;

    /// <summary>How long the answer's headers may take: the server sends them as soon as the stream is open.</summary>
    public static readonly TimeSpan HeadersTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long a stream whose server breaks silence every <paramref name="keepAlive"/> may stay silent: twice that, and 5 s more.</summary>
    public static TimeSpan SilenceLimit(TimeSpan keepAlive) => keepAlive * 2 + TimeSpan.FromSeconds(5);

    public static async Task<Reply<EventSource>> OpenAsync(HttpClient http, Uri server, string prefix, long? after, bool snapshot, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var root = !server.AbsolutePath.EndsWith('/') ? new UriBuilder(server) { Path = server.AbsolutePath + "/" }.Uri : server;
        var query = new StringBuilder("v1/events?prefix=").Append(Uri.EscapeDataString(prefix));
        if (after is { } revision)
        {
            query.Append("&after=").Append(revision.ToString(CultureInfo.InvariantCulture));
        }
        if (snapshot)
        {
            query.Append("&snapshot=true");
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(root, query.ToString()));
        request.Headers.Accept.ParseAdd("text/event-stream");
        // The server answers a stream's headers at once: a connection that dies before they come must not hold the watch for good.
        using var answered = new CancellationTokenSource(HeadersTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, answered.Token);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested && answered.IsCancellationRequested)
        {
            throw new IOException($"the event stream's answer did not begin within {HeadersTimeout.TotalSeconds:0} s", ex);
        }
        try
        {
            if (response.StatusCode != HttpStatusCode.OK)
            {
                ProblemDto problem;
                try
                {
                    problem = await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ProblemDto, cancellationToken).ConfigureAwait(false)
                              ?? Problems.Unexpected((int)response.StatusCode, $"HTTP {(int)response.StatusCode} without a problem body");
                }
                catch (System.Text.Json.JsonException)
                {
                    problem = Problems.Unexpected((int)response.StatusCode, $"HTTP {(int)response.StatusCode} without a problem body");
                }
                var refused = Reply<EventSource>.Refused(problem, response.Headers.RetryAfter?.Delta);
                response.Dispose();
                return refused;
            }
            // A server without the header (older): the client resumes from the last event it saw.
            var start = response.Headers.TryGetValues(Headers.Revision, out var values)
                        && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var at) ? at : -1;
            // A server without the header (older) is waited for as long as it takes.
            TimeSpan? silence = response.Headers.TryGetValues(Headers.KeepAlive, out var keepAlive)
                                && double.TryParse(keepAlive.FirstOrDefault(), NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var seconds)
                                && seconds > 0 && seconds <= 86_400
                ? SilenceLimit(TimeSpan.FromSeconds(seconds))
                : null;
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return Reply<EventSource>.Of(new HttpEventSource(response, new StreamReader(stream, Encoding.UTF8), start, silence, time));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public override async ValueTask<byte[]?> NextAsync(CancellationToken cancellationToken)
    {
        using var linked = _silent is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _silent.Token);
        StringBuilder? data = null;
        while (await ReadLineAsync(linked?.Token ?? cancellationToken, cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                if (data is not null)
                {
                    return Encoding.UTF8.GetBytes(data.ToString());
                }
                continue;
            }
            if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                var value = line.AsSpan(5);
                if (value.StartsWith(" "))
                {
                    value = value[1..];
                }
                if (data is null)
                {
                    data = new StringBuilder().Append(value);
                }
                else
                {
                    data.Append('\n').Append(value);
                }
            }
            // id:, event: (the type is in the JSON too), comments (": keep-alive") and unknown fields: nothing to keep.
        }
        return null;
    }

    /// <summary>
    /// The next line; one that does not come within the silence limit ends the stream as lost (an <see cref="IOException"/>).
    /// The limit counts only while a line is awaited, never while the caller handles an event.
    /// </summary>
    private async ValueTask<string?> ReadLineAsync(CancellationToken token, CancellationToken cancellationToken)
    {
        _silent?.CancelAfter(_silence!.Value);
        try
        {
            return await _reader.ReadLineAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            // The caller's own cancellation, named by the caller's token.
            throw new OperationCanceledException(ex.Message, ex, cancellationToken);
        }
        catch (OperationCanceledException ex) when (_silent is { IsCancellationRequested: true })
        {
            throw new IOException($"the event stream brought nothing for {_silence!.Value.TotalSeconds:0.#} s, though its server breaks silence more often: taken for lost", ex);
        }
        finally
        {
            if (_silent is { IsCancellationRequested: false })
            {
                _silent.CancelAfter(Timeout.InfiniteTimeSpan);
            }
        }
    }

    public override ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        _silent?.Dispose();
        return ValueTask.CompletedTask;
    }
}

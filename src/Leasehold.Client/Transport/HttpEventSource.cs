using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Leasehold.Protocol;

namespace Leasehold.Client.Transport;

/// <summary>
/// <c>GET /v1/events</c> as Server-Sent Events (docs/events.md): each message's <c>data</c> (its lines joined), comments
/// (keep-alives) skipped. The answer's <c>Leasehold-Revision</c> header is where the stream starts.
/// </summary>
internal sealed class HttpEventSource(HttpResponseMessage response, StreamReader reader, long start) : EventSource
{
    public override long Start => start;

    public static async Task<Reply<EventSource>> OpenAsync(HttpClient http, Uri server, string prefix, long? after, bool snapshot, CancellationToken cancellationToken)
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
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
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
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return Reply<EventSource>.Of(new HttpEventSource(response, new StreamReader(stream, Encoding.UTF8), start));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public override async ValueTask<byte[]?> NextAsync(CancellationToken cancellationToken)
    {
        StringBuilder? data = null;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
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

    public override ValueTask DisposeAsync()
    {
        reader.Dispose();
        response.Dispose();
        return ValueTask.CompletedTask;
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;

namespace Leasehold.Server.Tests.Events;

/// <summary>One Server-Sent Events message as read off the wire: a comment has only <see cref="Comment"/>.</summary>
public sealed record SseMessage(string? Id, string? Event, string? Data, string? Comment)
{
    public JsonElement Json => HttpAssert.Parse(Data ?? throw new InvalidOperationException("a comment has no data"));

    public long Revision => Json.GetProperty("revision").GetInt64();

    public override string ToString() => Comment is not null ? ": " + Comment : $"{Id} {Event} {Data}";
}

/// <summary>
/// A real client of <c>GET /v1/events</c>: it reads the stream as it comes (on its own task, so the server never
/// waits for the test) and hands the messages over one by one with bounded waits.
/// </summary>
public sealed class SseStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly Channel<SseMessage> _messages = Channel.CreateUnbounded<SseMessage>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;

    private SseStream(HttpResponseMessage response)
    {
        _response = response;
        _reading = Task.Run(ReadAsync);
    }

    /// <summary>True once the server ended the stream (read to its end).</summary>
    public bool Ended { get; private set; }

    /// <summary>Opens <paramref name="url"/>; asserts 200 and the SSE content type.</summary>
    public static async Task<SseStream> OpenAsync(HttpClient client, string url, long? lastEventId = null)
    {
        var response = await SendAsync(client, url, lastEventId);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsStringAsync();
            response.Dispose();
            Assert.Fail($"GET {url}: {(int)response.StatusCode} {body}");
        }
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseStream(response);
    }

    /// <summary>The answer to GET <paramref name="url"/> as it is (for refusals), headers read.</summary>
    public static async Task<HttpResponseMessage> SendAsync(HttpClient client, string url, long? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(url, UriKind.Relative));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is { } id)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
    }

    private async Task ReadAsync()
    {
        try
        {
            using var reader = new StreamReader(await _response.Content.ReadAsStreamAsync(_stop.Token));
            string? id = null, type = null, data = null;
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data is not null)
                    {
                        _messages.Writer.TryWrite(new SseMessage(id, type, data, null));
                    }
                    (id, type, data) = (null, null, null);
                }
                else if (line.StartsWith(':'))
                {
                    _messages.Writer.TryWrite(new SseMessage(null, null, null, line[1..].Trim()));
                }
                else if (line.StartsWith("id: ", StringComparison.Ordinal))
                {
                    id = line[4..];
                }
                else if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    type = line[7..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data = data is null ? line[6..] : data + "\n" + line[6..];
                }
            }
            Ended = true;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
        {
            Ended = true;
        }
        finally
        {
            _messages.Writer.TryComplete();
        }
    }

    /// <summary>The next message (comments included), or a failure after <paramref name="timeout"/> (default <see cref="TestServer.Timeout"/>).</summary>
    public async Task<SseMessage> NextAsync(TimeSpan? timeout = null)
    {
        using var limit = new CancellationTokenSource(timeout ?? TestServer.Timeout);
        try
        {
            return await _messages.Reader.ReadAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no event within {(timeout ?? TestServer.Timeout).TotalSeconds} s");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException("the stream ended");
        }
    }

    /// <summary>The next event (comments skipped).</summary>
    public async Task<SseMessage> NextEventAsync()
    {
        while (true)
        {
            var message = await NextAsync();
            if (message.Comment is null)
            {
                return message;
            }
        }
    }

    /// <summary>Events up to and including the first of type <paramref name="type"/> (at most <paramref name="max"/>).</summary>
    public async Task<List<SseMessage>> ReadUntilAsync(string type, int max = 1000)
    {
        var read = new List<SseMessage>();
        for (var i = 0; i < max; i++)
        {
            var message = await NextEventAsync();
            read.Add(message);
            if (message.Event == type)
            {
                return read;
            }
        }
        throw new InvalidOperationException($"no {type} event among {max}: {string.Join(" | ", read)}");
    }

    /// <summary>Events up to and including the one with revision <paramref name="revision"/> or above.</summary>
    public async Task<List<SseMessage>> ReadThroughAsync(long revision, int max = 10_000)
    {
        var read = new List<SseMessage>();
        for (var i = 0; i < max; i++)
        {
            var message = await NextEventAsync();
            read.Add(message);
            if (message.Id is not null && message.Revision >= revision)
            {
                return read;
            }
        }
        throw new InvalidOperationException($"revision {revision} not reached among {max} events");
    }

    /// <summary>Whether the stream ended within <paramref name="timeout"/>, after any messages still buffered.</summary>
    public async Task<bool> EndsWithinAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await _reading.WaitAsync(limit.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _response.Dispose();
        await _reading.WaitAsync(TestServer.Timeout).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }
}

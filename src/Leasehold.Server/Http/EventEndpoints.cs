using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json.Nodes;
using Leasehold.Protocol;
using Leasehold.Server.Events;
using Leasehold.Server.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.OpenApi;

namespace Leasehold.Server.Http;

/// <summary>
/// <c>GET /v1/events</c>: the event stream as Server-Sent Events (docs/events.md). Written straight to the
/// response, flushed per batch of events; a keep-alive comment after every <c>KeepAliveSeconds</c> of silence.
/// </summary>
internal static class EventEndpoints
{
    public const string Route = "/v1/events";

    /// <summary>Events written before each flush, at most.</summary>
    private const int MaxPerFlush = 256;

    /// <summary>How long the last words of a stream the server ends (its <c>cut-off</c>) may take before the connection is dropped.</summary>
    private static readonly TimeSpan FinalWriteTimeout = TimeSpan.FromSeconds(2);

    private static readonly byte[] KeepAlive = ": keep-alive\n\n"u8.ToArray();

    public static void MapEventEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(Route, StreamAsync).WithTags("Events").WithName("StreamEvents")
            .WithMetadata(
                QueryParameter.Prefix("Events touching paths"),
                new QueryParameter("snapshot", JsonSchemaType.Boolean, "`true`: start with a `snapshot` event of the state under the prefix (default `false`).", JsonValue.Create(true)),
                new QueryParameter("after", JsonSchemaType.Integer, "A revision: send the events after it, as the `Last-Event-ID` header does (the header wins).", JsonValue.Create(1042)))
            .Produces<string>(StatusCodes.Status200OK, "text/event-stream")
            .Produces<ProblemDto>(StatusCodes.Status503ServiceUnavailable, ProblemDto.ContentType)
            .WithSummary("Every change under a prefix as Server-Sent Events (query: prefix, snapshot, after; header Last-Event-ID)");
    }

    private static async Task StreamAsync(HttpContext context, EventHub hub, TimeProvider time)
    {
        var query = context.Request.Query;
        if (!RequestReading.TryParsePath(query.TryGetValue("prefix", out var p) ? p.ToString() : "/", out var prefix, out var problem))
        {
            await problem!.ExecuteAsync(context).ConfigureAwait(false);
            return;
        }
        var snapshot = false;
        if (query.TryGetValue("snapshot", out var s) && !bool.TryParse(s, out snapshot))
        {
            await Problems.WriteAsync(context, ErrorCodes.InvalidArgument, "snapshot is true or false").ConfigureAwait(false);
            return;
        }
        long? after = null;
        foreach (var (name, text) in new[] { ("after", query["after"].ToString()), ("Last-Event-ID", context.Request.Headers["Last-Event-ID"].ToString()) })
        {
            if (text.Length == 0)
            {
                continue;
            }
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var revision))
            {
                await Problems.WriteAsync(context, ErrorCodes.InvalidArgument, $"{name} is a revision: a whole number, 0 or more").ConfigureAwait(false);
                return;
            }
            // The header comes second: it wins.
            after = revision;
        }
        if (await Access.DenyAsync(context, Right.Read, PathScope.Under(prefix)).ConfigureAwait(false) is { } denied)
        {
            await denied.ExecuteAsync(context).ConfigureAwait(false);
            return;
        }
        EventSubscription subscription;
        try
        {
            subscription = await hub.SubscribeAsync(prefix, after, snapshot, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        }
        catch (TooManyStreamsException ex)
        {
            context.Response.Headers.RetryAfter = "1";
            await Problems.WriteAsync(context, ErrorCodes.TooManyStreams, ex.Message).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            await Problems.WriteAsync(context, ErrorCodes.ShuttingDown, "the server is shutting down").ConfigureAwait(false);
            return;
        }
        using (subscription)
        {
            await SendAsync(context, subscription, hub.Options, time).ConfigureAwait(false);
        }
    }

    private static async Task SendAsync(HttpContext context, EventSubscription subscription, EventOptions options, TimeProvider time)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Proxies that buffer (nginx) are asked not to.
        response.Headers["X-Accel-Buffering"] = "no";
        // Where the stream starts: a client that sees no event before it reconnects resumes from here without a gap.
        response.Headers[Headers.Revision] = subscription.After.ToString(CultureInfo.InvariantCulture);
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var writer = response.BodyWriter;
        var aborted = context.RequestAborted;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, subscription.CutOff);
        var token = linked.Token;
        // The revision the consumer has seen everything up to: what its cut-off refers to.
        var seen = subscription.After;
        try
        {
            if (subscription.Reset)
            {
                writer.Write(Control(EventTypes.Reset, subscription.After, "the events after the revision asked for are not all kept here: start over from the snapshot", time));
            }
            if (subscription.Snapshot is { } state)
            {
                writer.Write(PublishedEvent.Encode(state, withId: true));
            }
            var written = 0;
            foreach (var e in subscription.Backlog)
            {
                writer.Write(e.Sse.Span);
                seen = e.Revision;
                if (++written % MaxPerFlush == 0)
                {
                    await FlushAsync(writer, token).ConfigureAwait(false);
                }
            }
            await FlushAsync(writer, token).ConfigureAwait(false);
            var keepAlive = TimeSpan.FromSeconds(options.KeepAliveSeconds);
            Task<bool>? readable = null;
            while (true)
            {
                var n = 0;
                while (n < MaxPerFlush && subscription.Reader.TryRead(out var e))
                {
                    writer.Write(e.Sse.Span);
                    seen = e.Revision;
                    n++;
                }
                if (n > 0)
                {
                    await FlushAsync(writer, token).ConfigureAwait(false);
                    continue;
                }
                readable ??= subscription.Reader.WaitToReadAsync(token).AsTask();
                using var quiet = new CancellationTokenSource();
                var delay = Task.Delay(keepAlive, time, quiet.Token);
                if (await Task.WhenAny(readable, delay).ConfigureAwait(false) == delay)
                {
                    writer.Write(KeepAlive);
                    await FlushAsync(writer, token).ConfigureAwait(false);
                    continue;
                }
                await quiet.CancelAsync().ConfigureAwait(false);
                var more = await readable.ConfigureAwait(false);
                readable = null;
                if (!more)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionResetException)
        {
            if (aborted.IsCancellationRequested || subscription.CutOffReason is null)
            {
                // The client went away.
                return;
            }
        }
        await EndAsync(context, subscription, seen, time).ConfigureAwait(false);
    }

    /// <summary>The server ends the stream: what is buffered (unless the consumer is too slow for it), then <c>cut-off</c>.</summary>
    private static async Task EndAsync(HttpContext context, EventSubscription subscription, long seen, TimeProvider time)
    {
        var reason = subscription.CutOffReason ?? EventHub.ShuttingDown;
        var writer = context.Response.BodyWriter;
        using var limit = new CancellationTokenSource(FinalWriteTimeout, time);
        try
        {
            if (reason != EventHub.SlowConsumer)
            {
                while (subscription.Reader.TryRead(out var e))
                {
                    writer.Write(e.Sse.Span);
                    seen = e.Revision;
                }
            }
            writer.Write(Control(EventTypes.CutOff, seen, reason, time));
            await FlushAsync(writer, limit.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionResetException or InvalidOperationException)
        {
            // A consumer that does not read gets no last word: its connection is dropped.
            context.Abort();
        }
    }

    private static async Task FlushAsync(PipeWriter writer, CancellationToken token)
    {
        var result = await writer.FlushAsync(token).ConfigureAwait(false);
        if (result.IsCanceled)
        {
            throw new OperationCanceledException(token);
        }
        if (result.IsCompleted)
        {
            throw new IOException("the client closed the stream");
        }
    }

    private static byte[] Control(string type, long revision, string reason, TimeProvider time)
        => PublishedEvent.Encode(new EventDto { Revision = revision, Type = type, At = DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds()), Reason = reason }, withId: false);
}

using System.Security.Claims;
using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json.Nodes;
using Leasehold.Protocol;
using Leasehold.Server.Events;
using Leasehold.Server.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
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
                StreamingRoute.Instance,
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
        // Sessions have no path (their events reach streams of the whole tree only) and listing them takes admin on `/`:
        // so do their events. Others get the rest of the stream (docs/security.md).
        var sessions = prefix.Depth == 0
            && (!Access.IsEnabled(context) || await MaySeeSessionsAsync(context.RequestServices, context.User).ConfigureAwait(false));
        // Watched from before the check: a change of the security settings after it ends the stream.
        using var credentials = await CredentialWatch.StartAsync(context, time).ConfigureAwait(false);
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
            await Problems.WriteAsync(context, ErrorCodes.TooManyStreams, ex.Message, retryAfterSeconds: 1).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            await Problems.WriteAsync(context, ErrorCodes.ShuttingDown, "the server is shutting down").ConfigureAwait(false);
            return;
        }
        using (subscription)
        {
            credentials?.Attach(hub, subscription);
            await SendAsync(context, subscription, hub.Options, time, sessions).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// With security on, whether <paramref name="user"/> has the admin right on <c>/</c>, which session events need (as
    /// listing sessions does); asked quietly: no answer, nothing audited. The SSE stream and the native WATCH both ask it.
    /// </summary>
    internal static async Task<bool> MaySeeSessionsAsync(IServiceProvider services, ClaimsPrincipal user)
    {
        var authorization = services.GetRequiredService<IAuthorizationService>();
        var result = await authorization.AuthorizeAsync(user, PathScope.Under(Core.ResourcePath.Root), RightRequirement.Of(Right.Admin)).ConfigureAwait(false);
        return result.Succeeded;
    }

    private static async Task SendAsync(HttpContext context, EventSubscription subscription, EventOptions options, TimeProvider time, bool sessions)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Proxies that buffer (nginx) are asked not to.
        response.Headers["X-Accel-Buffering"] = "no";
        // Where the stream starts: a client that sees no event before it reconnects resumes from here without a gap.
        response.Headers[Headers.Revision] = subscription.After.ToString(CultureInfo.InvariantCulture);
        // How often silence is broken: a client that hears nothing for much longer takes the stream for dead.
        response.Headers[Headers.KeepAlive] = options.KeepAliveSeconds.ToString("R", CultureInfo.InvariantCulture);
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
                if (e.IsSession && !sessions)
                {
                    continue;
                }
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
                    if (e.IsSession && !sessions)
                    {
                        continue;
                    }
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
        await EndAsync(context, subscription, seen, time, sessions).ConfigureAwait(false);
    }

    /// <summary>The server ends the stream: what is buffered (unless the consumer is too slow for it), then <c>cut-off</c>.</summary>
    private static async Task EndAsync(HttpContext context, EventSubscription subscription, long seen, TimeProvider time, bool sessions)
    {
        var reason = subscription.CutOffReason ?? EventHub.ShuttingDown;
        var writer = context.Response.BodyWriter;
        using var limit = new CancellationTokenSource(FinalWriteTimeout, time);
        try
        {
            // Not to a consumer too slow for them, nor to one whose right to read them is in doubt.
            if (reason is not (EventHub.SlowConsumer or EventHub.CredentialsChanged))
            {
                while (subscription.Reader.TryRead(out var e))
                {
                    if (e.IsSession && !sessions)
                    {
                        continue;
                    }
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

    /// <summary>
    /// With security on, a stream is checked once, when it starts: so it ends (<c>credentials-changed</c>) when the
    /// security settings change (keys, rules) and when the caller's key or token expires, as a native connection does.
    /// The client reconnects and is checked anew.
    /// </summary>
    private sealed class CredentialWatch : IDisposable
    {
        private readonly IDisposable? _settings;
        private readonly ITimer? _expiry;
        private readonly Lock _gate = new();
        private bool _changed;
        private (EventHub Hub, EventSubscription Subscription)? _attached;

        private CredentialWatch(HttpContext context, DateTimeOffset? expires, TimeProvider time)
        {
            _settings = context.RequestServices.GetRequiredService<IOptionsMonitor<SecurityOptions>>().OnChange(_ => Changed());
            if (expires is { } at)
            {
                var left = at - time.GetUtcNow();
                // Timers reach about 49 days; a credential that lasts longer is checked again on reconnection.
                if (left < TimeSpan.FromDays(24))
                {
                    _expiry = time.CreateTimer(static watch => ((CredentialWatch)watch!).Changed(), this, left > TimeSpan.Zero ? left : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
                }
            }
        }

        /// <summary>Null with security off (nothing to watch).</summary>
        public static async Task<CredentialWatch?> StartAsync(HttpContext context, TimeProvider time)
        {
            if (!context.RequestServices.GetRequiredService<SecurityState>().Enabled)
            {
                return null;
            }
            // The credential check ran it already: the handlers' result is cached for the request.
            var result = await context.AuthenticateAsync().ConfigureAwait(false);
            var expires = result.Properties?.Items.TryGetValue(ApiKeyHandler.ExpiresItem, out var ms) == true
                && long.TryParse(ms, CultureInfo.InvariantCulture, out var unixMs)
                    ? DateTimeOffset.FromUnixTimeMilliseconds(unixMs)
                    : result.Properties?.ExpiresUtc;
            return new CredentialWatch(context, result.Succeeded ? expires : null, time);
        }

        public void Attach(EventHub hub, EventSubscription subscription)
        {
            lock (_gate)
            {
                _attached = (hub, subscription);
                if (!_changed)
                {
                    return;
                }
            }
            hub.CutOff(subscription, EventHub.CredentialsChanged);
        }

        private void Changed()
        {
            (EventHub Hub, EventSubscription Subscription)? attached;
            lock (_gate)
            {
                _changed = true;
                attached = _attached;
            }
            attached?.Hub.CutOff(attached.Value.Subscription, EventHub.CredentialsChanged);
        }

        public void Dispose()
        {
            _settings?.Dispose();
            _expiry?.Dispose();
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

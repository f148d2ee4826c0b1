using System.Text.Json;
using Leasehold.Protocol;
using Leasehold.Protocol.Native;
using Leasehold.Server.Events;
using Leasehold.Server.Http;
using Leasehold.Server.Security;

namespace Leasehold.Server.Native;

/// <summary>
/// WATCH (docs/protocol.md): the event stream of <c>GET /v1/events</c> on a native connection. The request stays in
/// flight: WATCHING once subscribed, then EVENT frames with its id (each the JSON object an SSE <c>data</c> line
/// carries), until CANCEL (ERROR <c>cancelled</c>) or the hub cuts it off (a last EVENT <c>cut-off</c>, then OK). It
/// writes only while the connection's output is drained, so a client that does not read lets its subscription's buffer
/// fill and the hub cuts it off, as it does a slow SSE reader; the connection and its other requests go on.
/// </summary>
internal sealed partial class NativeConnection
{
    /// <summary>Events written before each flush, at most.</summary>
    private const int MaxEventsPerFlush = 256;

    private async Task WatchAsync(Request request, WatchMessage message)
    {
        var id = request.Id;
        var cancel = request.Cancel!.Token;
        try
        {
            // Off the reader's thread: a backlog is written (and flushed) batch by batch, not all before the reader flushes.
            await Task.Yield();
            if (message.After < -1)
            {
                Fail(id, ErrorCodes.InvalidArgument, 400, "after is a revision, 0 or more, or -1 for none");
                return;
            }
            if (!RequestReading.TryReadPath(message.Prefix, out var prefix, out var refusal))
            {
                Refuse(id, refusal);
                return;
            }
            // As HTTP's stream: one request in progress for its principal while it lasts.
            if (!Admit(request))
            {
                return;
            }
            if (shared.SecurityOn
                && await Access.CheckAsync(shared.Services, _user, Right.Read, PathScope.Under(prefix), "native", "WATCH").ConfigureAwait(false) is { } denied)
            {
                Deny(id, denied);
                return;
            }
            // Session events only to callers who may list sessions, as on the SSE stream (docs/security.md).
            var sessions = prefix.Depth == 0
                && (!shared.SecurityOn || await EventEndpoints.MaySeeSessionsAsync(shared.Services, _user).ConfigureAwait(false));
            var hub = shared.Services.GetRequiredService<EventHub>();
            EventSubscription subscription;
            try
            {
                subscription = await hub.SubscribeAsync(prefix, message.After < 0 ? null : message.After,
                    (message.Flags & WatchFlags.Snapshot) != 0, cancellationToken: cancel).ConfigureAwait(false);
            }
            catch (TooManyStreamsException ex)
            {
                Fail(id, ErrorCodes.TooManyStreams, 503, ex.Message, 1000);
                return;
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                Fail(id, NativeProtocol.Cancelled, 499, "cancelled by CANCEL");
                return;
            }
            using (subscription)
            {
                await PumpAsync(id, subscription, sessions, cancel).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // Only before the subscription: the pump answers the request itself, whatever happens.
            FailUnexpected(id, ex);
        }
    }

    /// <summary>Sends the subscription's events until CANCEL or its cut-off, and answers the WATCH exactly once. Never throws.</summary>
    private async Task PumpAsync(uint id, EventSubscription subscription, bool sessions, CancellationToken cancel)
    {
        var time = shared.Services.GetRequiredService<TimeProvider>();
        // The revision the client has seen everything up to: what its cut-off refers to.
        var seen = subscription.After;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancel, subscription.CutOff);
        var token = linked.Token;
        try
        {
            lock (_write)
            {
                if (!_dead)
                {
                    NativeFrames.Write(_output, id, new WatchingMessage((ulong)subscription.After));
                    if (subscription.Reset)
                    {
                        WriteEvent(id, Control(EventTypes.Reset, subscription.After,
                            "the events after the revision asked for are not all kept here: start over from the snapshot", time));
                    }
                    if (subscription.Snapshot is { } state)
                    {
                        WriteEvent(id, JsonSerializer.SerializeToUtf8Bytes(state, ProtocolJsonContext.Default.EventDto));
                    }
                }
            }
            RequestFlush();
            var backlog = subscription.Backlog;
            for (var i = 0; i < backlog.Count;)
            {
                await DrainedAsync(token).ConfigureAwait(false);
                lock (_write)
                {
                    for (var n = 0; n < MaxEventsPerFlush && i < backlog.Count; n++, i++)
                    {
                        if (!_dead && (sessions || !backlog[i].IsSession))
                        {
                            WriteEvent(id, backlog[i].Json);
                        }
                        seen = backlog[i].Revision;
                    }
                }
                RequestFlush();
            }
            while (true)
            {
                // A client that does not read: nothing more is written until it does, and the hub cuts the watch off.
                await DrainedAsync(token).ConfigureAwait(false);
                var written = 0;
                lock (_write)
                {
                    while (written < MaxEventsPerFlush && subscription.Reader.TryRead(out var e))
                    {
                        if (!_dead && (sessions || !e.IsSession))
                        {
                            WriteEvent(id, e.Json);
                        }
                        seen = e.Revision;
                        written++;
                    }
                }
                if (written > 0)
                {
                    RequestFlush();
                    continue;
                }
                if (!await subscription.Reader.WaitToReadAsync(token).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // CANCEL, or the connection closed (then nothing is written).
            Fail(id, NativeProtocol.Cancelled, 499, "cancelled by CANCEL");
            return;
        }
        catch (OperationCanceledException)
        {
            // Cut off while waiting: its last words below.
        }
        catch (Exception ex)
        {
            shared.Logger.LogError(ex, "A native watch failed");
            Fail(id, ErrorCodes.Internal, 500, "the server failed to send the events; it is logged");
            return;
        }
        // The hub ended the subscription: what is buffered (unless the client is too slow for it), cut-off, then OK.
        var reason = subscription.CutOffReason ?? EventHub.ShuttingDown;
        lock (_write)
        {
            if (reason != EventHub.SlowConsumer)
            {
                while (subscription.Reader.TryRead(out var e))
                {
                    if (!_dead && (sessions || !e.IsSession))
                    {
                        WriteEvent(id, e.Json);
                    }
                    seen = e.Revision;
                }
            }
            if (!_dead)
            {
                WriteEvent(id, Control(EventTypes.CutOff, seen, reason, time));
                NativeFrames.Write(_output, id, new OkMessage());
            }
        }
        End(id);
    }

    /// <summary>Waits while a flush waits for the peer (the client is not reading).</summary>
    private async Task DrainedAsync(CancellationToken token)
    {
        while (_pendingFlush is { IsCompleted: false } pending)
        {
            await pending.WaitAsync(token).ConfigureAwait(false);
        }
        token.ThrowIfCancellationRequested();
    }

    /// <summary>Under _write: one event as EVENT frames (several in a row, each but the last <c>Continued</c>, when it is larger than a frame).</summary>
    private void WriteEvent(uint id, ReadOnlyMemory<byte> json)
    {
        var max = shared.Options.MaxFrameBytes - NativeProtocol.MinLength - EventMessage.Overhead;
        while (json.Length > max)
        {
            NativeFrames.Write(_output, id, new EventMessage(EventFlags.Continued, json[..max]));
            json = json[max..];
        }
        NativeFrames.Write(_output, id, new EventMessage(EventFlags.None, json));
    }

    private static byte[] Control(string type, long revision, string reason, TimeProvider time)
        => JsonSerializer.SerializeToUtf8Bytes(new EventDto
        {
            Revision = revision,
            Type = type,
            At = DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds()),
            Reason = reason,
        }, ProtocolJsonContext.Default.EventDto);
}

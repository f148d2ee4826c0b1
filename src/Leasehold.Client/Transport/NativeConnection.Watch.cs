using System.Collections.Concurrent;
using Leasehold.Protocol.Native;

namespace Leasehold.Client.Transport;

/// <summary>WATCH on the connection (docs/protocol.md): its WATCHING and EVENT frames go to the watch's <see cref="NativeWatch"/>.</summary>
internal sealed partial class NativeConnection
{
    // Keyed by the request, registered before it is sent: a frame for it can never come before its watch is known.
    private readonly ConcurrentDictionary<Pending, NativeWatch> _watches = new();

    /// <summary>
    /// Sends a WATCH whose frames go to <paramref name="watch"/>; the task ends with its answer (OK after a cut-off,
    /// ERROR) or throws <see cref="NativeConnectionLostException"/> when the connection breaks first.
    /// </summary>
    public Task<NativeAnswer> WatchAsync(in WatchMessage message, NativeWatch watch)
    {
        var pending = new Pending(this, FrameType.Watch);
        _watches[pending] = watch;
        try
        {
            Enqueue(message, pending);
        }
        catch
        {
            _watches.TryRemove(pending, out _);
            throw;
        }
        watch.Id = pending.Id;
        _ = pending.Task.ContinueWith(static (t, state) =>
        {
            var (connection, request) = ((NativeConnection, Pending))state!;
            connection._watches.TryRemove(request, out _);
        }, (this, pending), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return pending.Task;
    }

    /// <summary>Asks the server to end a WATCH (CANCEL); its answer (ERROR cancelled) then completes it.</summary>
    public void CancelWatch(uint id) => SendCancel(id);

    /// <summary>In the reader loop: a WATCHING or EVENT frame, handed to its watch (copied: the buffer is reused).</summary>
    private void DispatchWatch(in Frame frame)
    {
        Pending? pending;
        lock (_gate)
        {
            _pending.TryGetValue(frame.Id, out pending);
        }
        if (pending is null || !_watches.TryGetValue(pending, out var watch))
        {
            // A frame for nothing watched (a watch given up on): skipped.
            return;
        }
        if (frame.Type == FrameType.Watching)
        {
            if (NativeFrames.TryParse<WatchingMessage>(frame.Payload, out var watching))
            {
                watch.Started((long)watching.After);
            }
            return;
        }
        if (NativeFrames.TryParse<EventMessage>(frame.Payload, out var e))
        {
            watch.Received(e);
        }
    }
}

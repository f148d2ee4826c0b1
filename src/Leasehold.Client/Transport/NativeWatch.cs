using System.Threading.Channels;
using Leasehold.Protocol.Native;

namespace Leasehold.Client.Transport;

/// <summary>
/// A WATCH on a native connection: the reader loop hands it frames (<see cref="Received"/>), the consumer reads them
/// (<see cref="NextAsync"/>). Its buffer is bounded: a consumer that falls that far behind has the watch cancelled
/// and sees its stream end, as the server cuts off a slow one, and the client resumes from the last revision it saw.
/// </summary>
internal sealed class NativeWatch : EventSource
{
    /// <summary>Events buffered for a consumer before the watch is given up.</summary>
    internal const int Buffer = 4096;

    private readonly Channel<byte[]> _events = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(Buffer)
    {
        SingleReader = true,
        SingleWriter = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly TaskCompletionSource<long> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private NativeConnection? _connection;
    private Task<NativeAnswer>? _answer;
    private List<byte>? _pieces;
    private int _ended;

    /// <summary>The WATCH's request id on its connection.</summary>
    public uint Id { get; set; }

    public override long Start => _started.Task.Result;

    /// <summary>
    /// Sends WATCH and waits for WATCHING; a refusal is the problem the server answered. A transport failure throws.
    /// </summary>
    public static async Task<Reply<EventSource>> OpenAsync(NativeEndpoint endpoint, string prefix, long? after, bool snapshot, CancellationToken cancellationToken)
    {
        NativeConnection connection;
        try
        {
            connection = await endpoint.ConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NativeRefusedException refused)
        {
            return Reply<EventSource>.Refused(refused.Problem);
        }
        var watch = new NativeWatch { _connection = connection };
        var answer = connection.WatchAsync(new WatchMessage(prefix, after ?? -1, snapshot ? WatchFlags.Snapshot : WatchFlags.None), watch);
        watch._answer = answer;
        _ = answer.ContinueWith(static (t, state) => ((NativeWatch)state!).Answered(t), watch, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            await Task.WhenAny(watch._started.Task, answer).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!watch._started.Task.IsCompletedSuccessfully)
            {
                // Answered before it started: a refusal (or the connection lost, which throws here).
                var refused = await answer.ConfigureAwait(false);
                return refused.Type == FrameType.Error
                    ? Reply<EventSource>.Refused(NativeEndpoint.ToProblem(refused.Error),
                        refused.Error.RetryAfterMs >= 0 ? TimeSpan.FromMilliseconds(refused.Error.RetryAfterMs) : null, LeaderOf(refused.Error))
                    : Reply<EventSource>.Refused(Problems.Unexpected(500, $"the server answered WATCH with a frame of type 0x{(byte)refused.Type:X2}"));
            }
        }
        catch
        {
            await watch.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return Reply<EventSource>.Of(watch);
    }

    /// <summary>In the reader loop: WATCHING.</summary>
    public void Started(long after) => _started.TrySetResult(after);

    /// <summary>In the reader loop: one EVENT frame (a piece of a larger event when continued).</summary>
    public void Received(in EventMessage message)
    {
        byte[] json;
        if ((message.Flags & EventFlags.Continued) != 0)
        {
            (_pieces ??= []).AddRange(message.Json.Span);
            return;
        }
        if (_pieces is { } pieces)
        {
            pieces.AddRange(message.Json.Span);
            json = [.. pieces];
            _pieces = null;
        }
        else
        {
            json = message.Json.ToArray();
        }
        if (!_events.Writer.TryWrite(json))
        {
            // The consumer is this far behind: the watch goes, and the client resumes from what it saw.
            End(null);
        }
    }

    /// <summary>The WATCH is answered (OK after its cut-off, an ERROR) or its connection lost: its events end here.</summary>
    private void Answered(Task<NativeAnswer> answer)
    {
        if (_started.TrySetException(answer.Exception?.InnerException ?? new NativeConnectionLostException("the watch ended before it started")))
        {
            // Observed: whoever waits for the start learns from the answer instead.
            _ = _started.Task.Exception;
        }
        _events.Writer.TryComplete(answer.IsFaulted ? answer.Exception!.InnerException : null);
    }

    public override async ValueTask<byte[]?> NextAsync(CancellationToken cancellationToken)
    {
        while (await _events.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_events.Reader.TryRead(out var json))
            {
                return json;
            }
        }
        return null;
    }

    /// <summary>Cancels the WATCH on the server (unless it is answered already) and ends the stream here.</summary>
    private void End(Exception? error)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }
        _events.Writer.TryComplete(error);
        if (_answer is { IsCompleted: false } && _connection is { IsAlive: true } connection)
        {
            connection.CancelWatch(Id);
        }
    }

    public override ValueTask DisposeAsync()
    {
        End(null);
        // A watch that never started: its Start is never read.
        _started.TrySetCanceled();
        _ = _answer?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        _ = _started.Task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return ValueTask.CompletedTask;
    }

    /// <summary>The leader a node without the lead named in its ERROR's extensions, if any.</summary>
    private static Uri? LeaderOf(in ErrorMessage error)
    {
        if (error.Extensions is not { Length: > 0 } extensions)
        {
            return null;
        }
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(extensions);
            return document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                   && document.RootElement.TryGetProperty("leader", out var leader)
                   && Uri.TryCreate(leader.GetString(), UriKind.Absolute, out var uri) ? uri : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}

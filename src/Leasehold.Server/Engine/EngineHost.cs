using System.Threading.Channels;
using Leasehold.Core;

namespace Leasehold.Server.Engine;

/// <summary>
/// The one writer. Requests become work items on a channel; a single loop applies them to the engine in
/// arrival order, batch by batch, then answers waiters that the batch granted or failed and re-arms the
/// expiry timer. No other thread ever touches engine state, so nothing here takes a lock around it.
/// </summary>
public sealed partial class EngineHost : IAsyncDisposable
{
    private readonly LockEngine _engine;
    private readonly TimeProvider _time;
    private readonly ILogger<EngineHost> _logger;
    private readonly Channel<WorkItem> _work = Channel.CreateUnbounded<WorkItem>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    // Touched only by the writer loop.
    private readonly Dictionary<long, PendingAcquire> _waiting = [];
    private readonly ITimer _timer;
    private readonly Task _loop;
    private long _armedFor = long.MaxValue;

    public EngineHost(LockEngine engine, TimeProvider time, ILogger<EngineHost> logger)
    {
        _engine = engine;
        _time = time;
        _logger = logger;
        _timer = time.CreateTimer(_ => Post(new TickItem()), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Runs <paramref name="work"/> on the writer with the current time and returns its result.</summary>
    public Task<T> ExecuteAsync<T>(Func<LockEngine, long, T> work)
    {
        var item = new FuncItem<T>(work);
        Post(item);
        return item.Completion.Task;
    }

    /// <summary>Answers every waiting request with shutting-down; used when the server stops.</summary>
    public Task<int> DropWaitersAsync() => ExecuteAsync((engine, _) => engine.DropAllWaiters());

    private void Post(WorkItem item)
    {
        if (!_work.Writer.TryWrite(item))
        {
            item.Fail(new ObjectDisposedException(nameof(EngineHost)));
        }
    }

    private async Task RunAsync()
    {
        var reader = _work.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
                try
                {
                    item.Run(this, now);
                }
                catch (Exception ex)
                {
                    // An exception here is a bug in the engine or the host; the request gets a 500, the loop goes on.
                    LogWorkFailed(ex);
                    item.Fail(ex);
                }
                DeliverOutcomes();
            }
            Rearm();
        }
    }

    private void Rearm()
    {
        var next = _engine.NextDeadline ?? long.MaxValue;
        if (next == _armedFor)
        {
            return;
        }
        _armedFor = next;
        if (next == long.MaxValue)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }
        var delay = next - _time.GetUtcNow().ToUnixTimeMilliseconds();
        _timer.Change(TimeSpan.FromMilliseconds(Math.Max(0, delay)), Timeout.InfiniteTimeSpan);
    }

    public async ValueTask DisposeAsync()
    {
        _work.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        await _timer.DisposeAsync().ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A command failed in the engine writer")]
    private partial void LogWorkFailed(Exception ex);

    private abstract class WorkItem
    {
        public abstract void Run(EngineHost host, long now);

        public abstract void Fail(Exception ex);
    }

    private sealed class FuncItem<T>(Func<LockEngine, long, T> work) : WorkItem
    {
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Run(EngineHost host, long now) => Completion.TrySetResult(work(host._engine, now));

        public override void Fail(Exception ex) => Completion.TrySetException(ex);
    }

    private sealed class TickItem : WorkItem
    {
        public override void Run(EngineHost host, long now)
        {
            host._armedFor = long.MaxValue;
            host._engine.Advance(now);
        }

        public override void Fail(Exception ex)
        {
        }
    }
}

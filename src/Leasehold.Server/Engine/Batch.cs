using System.Buffers;
using Leasehold.Storage;

namespace Leasehold.Server.Engine;

/// <summary>
/// The work items one writer pass applied, the log records they produced, and the waiters they granted
/// or failed. Nothing in a batch is answered before its records are durable.
/// </summary>
internal sealed class Batch
{
    public LogBuffer? Log { get; init; }

    /// <summary>The leadership the batch was decided under (a cluster's; null on a single server). Set once, at creation.</summary>
    public object? Epoch { get; init; }

    /// <summary>Nothing in it: no request, no waiter's outcome, no record.</summary>
    public bool IsEmpty => Items.Count == 0 && Outcomes.Count == 0 && (Log is null || Log.Records == 0);

    public List<WorkItem> Items { get; } = [];

    public List<(EngineHost.PendingAcquire Pending, AcquireOutcome Outcome)> Outcomes { get; } = [];

    /// <summary>Leases and sessions the batch ended that someone watches: told once the batch is durable.</summary>
    public List<(IEndWatcher Watcher, Core.Ended Ended)> Ended { get; } = [];

    /// <summary>
    /// A snapshot of the state after this batch (its last record's index): once the batch's records are written,
    /// the log is cut there and the snapshot is encoded off the writer, or, when <c>Seed</c> is set, written from
    /// the bytes the writer encoded.
    /// </summary>
    public (long Index, ArrayBufferWriter<byte>? Seed)? Snapshot { get; set; }

    /// <summary>Where a callback that throws while the batch is answered is reported (the others are still answered).</summary>
    public Action<Exception>? ReportFailure { get; init; }

    /// <summary>Where the batch's events are published once it is durable, or null.</summary>
    public Events.EventHub? Hub { get; init; }

    /// <summary>The events of the batch's commands, in revision order (null: none): published first when the batch is durable.</summary>
    public List<Events.PublishedEvent>? Events { get; set; }

    /// <summary>
    /// Answers everything in the batch. Each answer is on its own: one that throws (a bug in a front-end's callback) is
    /// reported and the rest are still answered, and the batch is never failed once answering has begun (a failed
    /// answer after a successful one would reach whoever reuses that request).
    /// </summary>
    public void Complete()
    {
        AfterBatch.Begin();
        try
        {
            if (Events is not null && Hub is not null)
            {
                // Before the answers: whoever is answered and then asks the history finds the events there.
                Guard(static b => b.Hub!.Publish(b.Events!), this);
            }
            foreach (var item in Items)
            {
                Guard(static item => item.Complete(), item);
            }
            foreach (var (pending, outcome) in Outcomes)
            {
                pending.Completion.TrySetResult(outcome);
            }
            foreach (var ended in Ended)
            {
                Guard(static e => e.Watcher.OnEnded(e.Ended.Kind, e.Ended.Id, e.Ended.Reason), ended);
            }
        }
        finally
        {
            Guard(static _ => AfterBatch.End(), 0);
        }
        Log?.Dispose();
    }

    private void Guard<T>(Action<T> answer, T what)
    {
        try
        {
            answer(what);
        }
        catch (Exception ex)
        {
            ReportFailure?.Invoke(ex);
        }
    }

    public void Fail(Exception error)
    {
        AfterBatch.Begin();
        try
        {
            foreach (var item in Items)
            {
                item.Fail(error);
            }
            foreach (var (pending, _) in Outcomes)
            {
                pending.Completion.TrySetException(error);
            }
        }
        finally
        {
            AfterBatch.End();
        }
        Log?.Dispose();
    }
}

/// <summary>Told once a batch's answers are all written (a connection flushes then, once for all its answers).</summary>
internal interface IAfterBatch
{
    void AfterBatch();
}

/// <summary>
/// The answers of one batch, written one by one while it completes: whoever writes an answer to a connection
/// registers the connection here, and each is told once when the batch is done, on the same thread.
/// </summary>
internal static class AfterBatch
{
    [ThreadStatic]
    private static List<IAfterBatch>? t_pending;

    [ThreadStatic]
    private static int t_depth;

    /// <summary>True on a thread that is completing a batch.</summary>
    public static bool Active => t_depth > 0;

    public static void Begin() => t_depth++;

    /// <summary>Remembers <paramref name="target"/> for the end of the batch; false outside one (the caller acts now).</summary>
    public static bool Register(IAfterBatch target)
    {
        if (t_depth == 0)
        {
            return false;
        }
        (t_pending ??= []).Add(target);
        return true;
    }

    public static void End()
    {
        if (--t_depth > 0 || t_pending is not { Count: > 0 } pending)
        {
            return;
        }
        // (A target told here may complete another batch inline and register again: a fresh list for that.)
        t_pending = null;
        Exception? failure = null;
        foreach (var target in pending)
        {
            try
            {
                target.AfterBatch();
            }
            catch (Exception ex)
            {
                // Every other target is still told; the first failure is reported after.
                failure ??= ex;
            }
        }
        pending.Clear();
        t_pending ??= pending;
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }
}

/// <summary>One request's work on the writer: run it, then answer once its batch is durable.</summary>
internal abstract class WorkItem
{
    public abstract void Run(Writer writer);

    public abstract void Complete();

    public abstract void Fail(Exception error);
}

/// <summary>A work item answered with a value computed on the writer (typed items derive from it; <see cref="FuncItem{T}"/> runs a delegate).</summary>
internal abstract class ValueItem<T> : WorkItem
{
    private T? _result;

    public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public sealed override void Run(Writer writer) => _result = Compute(writer);

    public sealed override void Complete() => Completion.TrySetResult(_result!);

    public sealed override void Fail(Exception error) => Completion.TrySetException(error);

    protected abstract T Compute(Writer writer);
}

/// <summary>A delegate run on the writer: <see cref="EngineHost.ExecuteAsync{T}"/>'s item, for tests and the benchmark only.</summary>
internal sealed class FuncItem<T>(Func<Writer, T> work) : ValueItem<T>
{
    protected override T Compute(Writer writer) => work(writer);
}

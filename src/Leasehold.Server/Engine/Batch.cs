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

    /// <summary>
    /// A snapshot of the state after this batch (its last record's index): once the batch's records are written,
    /// the log is cut there and the snapshot is encoded off the writer, or, when <c>Seed</c> is set, written from
    /// the bytes the writer encoded.
    /// </summary>
    public (long Index, ArrayBufferWriter<byte>? Seed)? Snapshot { get; set; }

    public void Complete()
    {
        foreach (var item in Items)
        {
            item.Complete();
        }
        foreach (var (pending, outcome) in Outcomes)
        {
            pending.Completion.TrySetResult(outcome);
        }
        Log?.Dispose();
    }

    public void Fail(Exception error)
    {
        foreach (var item in Items)
        {
            item.Fail(error);
        }
        foreach (var (pending, _) in Outcomes)
        {
            pending.Completion.TrySetException(error);
        }
        Log?.Dispose();
    }
}

/// <summary>One request's work on the writer: run it, then answer once its batch is durable.</summary>
internal abstract class WorkItem
{
    public abstract void Run(Writer writer);

    public abstract void Complete();

    public abstract void Fail(Exception error);
}

internal sealed class FuncItem<T>(Func<Writer, T> work) : WorkItem
{
    private T? _result;

    public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void Run(Writer writer) => _result = work(writer);

    public override void Complete() => Completion.TrySetResult(_result!);

    public override void Fail(Exception error) => Completion.TrySetException(error);
}

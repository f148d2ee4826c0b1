namespace Leasehold.Server.Engine;

/// <summary>
/// Where the writer's batches become durable before they are answered: the single server's data directory
/// (<see cref="StoreLog"/>), nothing at all (<see cref="MemoryLog"/>), or a cluster's Raft log
/// (<see cref="Cluster.RaftLog"/>). The writer hands each batch over once its pass is done; the log answers
/// it (<see cref="Batch.Complete"/>) when it is kept, or fails it.
/// </summary>
internal interface ICommitLog
{
    /// <summary>Whether batches carry their commands as log records (false: nothing is written).</summary>
    bool Logs { get; }

    /// <summary>The index the next record gets.</summary>
    long TakeIndex();

    /// <summary>Why nothing can be kept any more, or null while it can. Every further change is refused.</summary>
    Exception? Failure { get; }

    /// <summary>How the log keeps what it is given, as settings name it.</summary>
    FlushPolicy Policy { get; }

    /// <summary>Syncs of the log since start.</summary>
    long Syncs { get; }

    /// <summary>Takes <paramref name="batch"/> over: it is answered or failed from now on by the log.</summary>
    void Submit(Batch batch);

    /// <summary>No batch follows; <see cref="Closed"/> completes once every batch handed over is answered.</summary>
    void Close();

    Task Closed { get; }
}

/// <summary>Memory mode: a batch is answered as soon as the writer is done with it.</summary>
internal sealed class MemoryLog : ICommitLog
{
    public bool Logs => false;

    public long TakeIndex() => 0;

    public Exception? Failure => null;

    public FlushPolicy Policy => FlushPolicy.Memory;

    public long Syncs => 0;

    public void Submit(Batch batch) => batch.Complete();

    public void Close()
    {
    }

    public Task Closed => Task.CompletedTask;
}

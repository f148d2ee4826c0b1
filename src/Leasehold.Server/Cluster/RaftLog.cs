using System.Threading.Channels;
using DotNext.Net.Cluster.Consensus.Raft;
using Leasehold.Server.Engine;
using Leasehold.Storage;
using NotLeaderException = Leasehold.Server.Engine.NotLeaderException;

namespace Leasehold.Server.Cluster;

/// <summary>
/// A cluster's Raft log as the writer's commit log: the leader's batches, in order, each drain of them one Raft
/// entry, answered once a majority has it (DotNext's <c>ReplicateAsync</c>: appended, replicated, committed in
/// this leader's term). A drain of queries alone writes nothing but passes a read barrier (a heartbeat round a
/// majority answers), so a deposed leader never answers from its stale copy. A batch decided under an earlier
/// leadership, or whose replication failed, is refused with <see cref="NotLeaderException"/>, and a failed
/// replication makes the node give up leading: its copy may now hold decisions the log does not.
/// </summary>
internal sealed partial class RaftLog(RaftNode node, FlushPolicy policy, ILogger logger) : ICommitLog
{
    private readonly Channel<Batch> _batches = Channel.CreateUnbounded<Batch>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ILogger _logger = logger;
    private Task? _committer;
    private long _index;
    private long _entries;

    public bool Logs => true;

    public long TakeIndex() => ++_index;

    /// <summary>Why the committer died (a bug), or null while it runs: the writer then refuses every change.</summary>
    public Exception? Failure { get; private set; }

    public FlushPolicy Policy => policy;

    /// <summary>Raft entries this node replicated as leader.</summary>
    public long Syncs => Interlocked.Read(ref _entries);

    public Task Closed => _committer ?? Task.CompletedTask;

    public void Start() => _committer = Task.Run(CommitLoopAsync);

    public void Submit(Batch batch)
    {
        if (!_batches.Writer.TryWrite(batch))
        {
            batch.Fail(new ObjectDisposedException(nameof(RaftLog)));
        }
    }

    public void Close() => _batches.Writer.TryComplete();

    /// <summary>Raised once if the committer dies (a bug): nothing would be answered again, so the host stops.</summary>
    public event Action<Exception>? Died;

    private async Task CommitLoopAsync()
    {
        var reader = _batches.Reader;
        var drain = new List<Batch>();
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var batch))
                {
                    drain.Add(batch);
                }
                await CommitAsync(drain).ConfigureAwait(false);
                drain.Clear();
            }
        }
        catch (Exception ex)
        {
            Failure = ex;
            LogCommitterDied(ex);
            _batches.Writer.TryComplete(ex);
            foreach (var batch in drain)
            {
                batch.Fail(ex);
            }
            while (reader.TryRead(out var batch))
            {
                batch.Fail(ex);
            }
            Died?.Invoke(ex);
        }
    }

    private async Task CommitAsync(List<Batch> drain)
    {
        var epoch = node.Epoch;
        var current = new List<Batch>(drain.Count);
        foreach (var batch in drain)
        {
            if (batch.IsEmpty)
            {
                // Nothing to keep and nobody to answer: no entry, no read barrier.
                batch.Complete();
            }
            else if (epoch is not null && ReferenceEquals(batch.Epoch, epoch))
            {
                current.Add(batch);
            }
            else
            {
                batch.Fail(new NotLeaderException("this node stopped leading before the request was kept; it may or may not have taken effect: retry (an acquire with its idempotency key)"));
            }
        }
        if (current.Count == 0)
        {
            return;
        }
        var logs = current.Select(b => b.Log).OfType<LogBuffer>().Where(l => l.Records > 0).ToList();
        try
        {
            bool kept;
            if (logs.Count > 0)
            {
                kept = await node.ReplicateAsync(ClusterEntry.Commands(logs), epoch!).ConfigureAwait(false);
                Interlocked.Increment(ref _entries);
            }
            else
            {
                await node.Cluster.ApplyReadBarrierAsync(epoch!.Token).ConfigureAwait(false);
                kept = !epoch.Token.IsCancellationRequested;
            }
            if (!kept)
            {
                Refuse(current, epoch!, null);
                return;
            }
        }
        catch (Exception ex)
        {
            Refuse(current, epoch!, ex);
            return;
        }
        // Kept: answering cannot undo that (a failure here is a bug in answering, never a reason to give up leading).
        foreach (var batch in current)
        {
            batch.Complete();
        }
    }

    private void Refuse(List<Batch> batches, LeaderEpoch epoch, Exception? cause)
    {
        LogReplicationFailed(cause, epoch.Term);
        var error = new NotLeaderException("the cluster did not keep the request (this node lost its leadership or its majority); it may or may not have taken effect: retry (an acquire with its idempotency key)", cause ?? new InvalidOperationException("term changed"));
        foreach (var batch in batches)
        {
            batch.Fail(error);
        }
        node.StepDown(epoch, resign: true);
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "The cluster committer stopped; no request can be answered any more and the server stops")]
    private partial void LogCommitterDied(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replicating a batch in term {Term} failed; this node stops leading")]
    private partial void LogReplicationFailed(Exception? ex, long term);
}

/// <summary>One leadership of this node: its term, and the token DotNext cancels when it ends.</summary>
internal sealed record LeaderEpoch(long Term, CancellationToken Token);

using System.Threading.Channels;
using DotNext.Net.Cluster.Consensus.Raft;
using Leasehold.Server.Engine;
using Leasehold.Storage;
using NotLeaderException = Leasehold.Server.Engine.NotLeaderException;

namespace Leasehold.Server.Cluster;

/// <summary>
/// A cluster's Raft log as the writer's commit log: the leader's batches, in order, each drain of them one Raft
/// entry. Entries are pipelined: each drain's entry is appended to the log as soon as it is formed (in order,
/// one append finished before the next begins), replication carries whatever has been appended, and up to
/// <see cref="ClusterOptions.MaxEntriesInFlight"/> entries wait for their commit at once. A drain's batches are
/// answered once its entry is committed in this leader's term and every earlier entry's batches have been
/// answered (answers in log order). A drain of queries alone writes nothing but passes a read barrier (a
/// heartbeat round a majority answers), and is answered in the same order, so a query never sees the effect of
/// an entry not yet committed and a deposed leader never answers from its stale copy. A batch decided under an
/// earlier leadership, or whose entry failed, is refused with <see cref="NotLeaderException"/>; a failed entry
/// fails every later entry of the same leadership still in flight (they follow it in the log, and were decided
/// on top of it), and makes the node give up leading: its copy may now hold decisions the log does not.
/// </summary>
internal sealed partial class RaftLog(RaftNode node, FlushPolicy policy, int maxInFlight, ILogger logger) : ICommitLog
{
    private readonly Channel<Batch> _batches = Channel.CreateUnbounded<Batch>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<InFlight> _inFlight = Channel.CreateUnbounded<InFlight>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    /// <summary>One slot per entry (or read barrier) waiting for its commit: at most <c>MaxEntriesInFlight</c> (the settings check 1-1024).</summary>
    private readonly SemaphoreSlim _slots = new(maxInFlight);
    private readonly ILogger _logger = logger;
    private Task? _committer;
    private long _index;
    private long _entries;
    private int _died;

    /// <summary>The leadership whose last append failed (committer only): none of its later drains is appended.</summary>
    private LeaderEpoch? _appendFailed;

    public bool Logs => true;

    public long TakeIndex() => ++_index;

    /// <summary>Why the committer died (a bug), or null while it runs: the writer then refuses every change.</summary>
    public Exception? Failure { get; private set; }

    public FlushPolicy Policy => policy;

    /// <summary>Raft entries this node appended as leader.</summary>
    public long Syncs => Interlocked.Read(ref _entries);

    public Task Closed => _committer ?? Task.CompletedTask;

    public void Start() => _committer = Task.WhenAll(Task.Run(CommitLoopAsync), Task.Run(AnswerLoopAsync));

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

    /// <summary>Forms each drain's entry, appends it and hands it to the answerer; waits while the pipeline is full.</summary>
    private async Task CommitLoopAsync()
    {
        var reader = _batches.Reader;
        var drain = new List<Batch>();
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                // A free slot first: while the pipeline is full, batches gather into the next (larger) entry.
                await _slots.WaitAsync().ConfigureAwait(false);
                while (reader.TryRead(out var batch))
                {
                    drain.Add(batch);
                }
                if (Volatile.Read(ref _died) != 0)
                {
                    // The answerer died: nothing more is sent, and what was read is failed here (this loop alone reads the batches).
                    var error = Failure ?? new InvalidOperationException("the cluster committer stopped");
                    foreach (var batch in drain)
                    {
                        batch.Fail(error);
                    }
                    drain.Clear();
                    _slots.Release();
                    continue;
                }
                if (!await SendAsync(drain).ConfigureAwait(false))
                {
                    _slots.Release();
                }
                drain.Clear();
            }
            _inFlight.Writer.TryComplete();
        }
        catch (Exception ex)
        {
            _inFlight.Writer.TryComplete();
            Die(ex, drain, committer: true);
        }
    }

    /// <summary>
    /// Sends one drain: refuses what another leadership decided, appends the entry (or starts a read barrier),
    /// and queues it for the answerer. False when nothing was queued (the slot stays free).
    /// </summary>
    private async ValueTask<bool> SendAsync(List<Batch> drain)
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
        // Those answered above are done: if anything below fails, the committer fails only the rest.
        drain.Clear();
        drain.AddRange(current);
        if (current.Count == 0)
        {
            return false;
        }
        var logs = current.Select(b => b.Log).OfType<LogBuffer>().Where(l => l.Records > 0).ToList();
        Task wait;
        if (ReferenceEquals(_appendFailed, epoch))
        {
            // An earlier drain of this leadership never reached the log, and this one was decided on top of it: it must
            // not reach the log either (the answerer refuses it in its turn, and the node steps down).
            wait = Task.FromException(new InvalidOperationException("an earlier entry of this leadership could not be appended"));
        }
        else if (logs.Count > 0)
        {
            // Appended before the next drain's entry is formed: the log holds the entries in the writer's order.
            wait = await AppendAsync(ClusterEntry.Commands(logs), epoch!).ConfigureAwait(false);
            Interlocked.Increment(ref _entries);
        }
        else
        {
            // Started after every query in the drain was decided: a majority confirms this node still led then.
            try
            {
                wait = node.Cluster.ApplyReadBarrierAsync(epoch!.Token).AsTask();
            }
            catch (Exception ex)
            {
                // Refused in its turn by the answerer, as a failed entry is.
                wait = Task.FromException(ex);
            }
        }
        if (!_inFlight.Writer.TryWrite(new InFlight(current, epoch!, wait)))
        {
            throw new InvalidOperationException("the answerer stopped before the committer");
        }
        return true;
    }

    /// <summary>
    /// Appends <paramref name="payload"/> in <paramref name="epoch"/>'s term and asks for a replication round. The
    /// returned task completes once the entry is committed and applied here, or fails. A failure to append
    /// comes back as that task's failure, so the answerer refuses it in its turn.
    /// </summary>
    private async ValueTask<Task> AppendAsync(ReadOnlyMemory<byte> payload, LeaderEpoch epoch)
    {
        try
        {
            var index = await node.AppendAsync(payload, epoch).ConfigureAwait(false);
            return node.WaitForCommitAsync(index, epoch).AsTask();
        }
        catch (Exception ex)
        {
            _appendFailed = epoch;
            return Task.FromException(ex);
        }
    }

    /// <summary>Answers the entries in log order as they commit; one that fails fails every later one of its leadership.</summary>
    private async Task AnswerLoopAsync()
    {
        var reader = _inFlight.Reader;
        LeaderEpoch? failed = null;
        InFlight? item = null;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out item))
                {
                    Exception? cause = null;
                    var kept = false;
                    try
                    {
                        await item.Wait.ConfigureAwait(false);
                        kept = !item.Epoch.Token.IsCancellationRequested && node.Cluster.Term == item.Epoch.Term;
                    }
                    catch (Exception ex)
                    {
                        cause = ex;
                    }
                    if (ReferenceEquals(failed, item.Epoch))
                    {
                        // An earlier entry of this leadership failed: this one follows it in the log.
                        Fail(item.Batches, cause);
                    }
                    else if (!kept)
                    {
                        failed = item.Epoch;
                        Refuse(item.Batches, item.Epoch, cause);
                    }
                    else
                    {
                        // Kept: answering cannot undo that (a failure here is a bug in answering, never a reason to give up leading).
                        foreach (var batch in item.Batches)
                        {
                            batch.Complete();
                        }
                    }
                    item = null;
                    _slots.Release();
                }
            }
        }
        catch (Exception ex)
        {
            // First, so that the committer can hand nothing more to this loop: a drain it sends now fails there.
            _inFlight.Writer.TryComplete(ex);
            Die(ex, item?.Batches ?? [], committer: false);
            while (reader.TryRead(out var rest))
            {
                foreach (var batch in rest.Batches)
                {
                    batch.Fail(ex);
                }
            }
        }
    }

    /// <summary>
    /// One of the two loops failed (a bug): fails what it holds, stops new batches, and (the first time) reports it. Only
    /// the <paramref name="committer"/> reads the batches' channel (it has a single reader), so only it fails what is left
    /// there; the answerer's death reaches it through <see cref="_died"/>.
    /// </summary>
    private void Die(Exception ex, List<Batch> holding, bool committer)
    {
        var first = Interlocked.Exchange(ref _died, 1) == 0;
        if (first)
        {
            Failure = ex;
            LogCommitterDied(ex);
        }
        _batches.Writer.TryComplete(ex);
        foreach (var batch in holding)
        {
            batch.Fail(ex);
        }
        if (committer)
        {
            while (_batches.Reader.TryRead(out var batch))
            {
                batch.Fail(ex);
            }
        }
        if (first)
        {
            // Neither loop waits for a slot any more.
            _slots.Release(maxInFlight);
            Died?.Invoke(ex);
        }
    }

    private static NotLeaderException NotKept(Exception? cause)
        => new("the cluster did not keep the request (this node lost its leadership or its majority); it may or may not have taken effect: retry (an acquire with its idempotency key)", cause ?? new InvalidOperationException("term changed"));

    private static void Fail(List<Batch> batches, Exception? cause)
    {
        var error = NotKept(cause);
        foreach (var batch in batches)
        {
            batch.Fail(error);
        }
    }

    private void Refuse(List<Batch> batches, LeaderEpoch epoch, Exception? cause)
    {
        LogReplicationFailed(cause, epoch.Term);
        Fail(batches, cause);
        node.StepDown(epoch, resign: true);
    }

    /// <summary>One drain sent: its batches, the leadership that decided them, and what completes once it is kept.</summary>
    private sealed record InFlight(List<Batch> Batches, LeaderEpoch Epoch, Task Wait);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The cluster committer stopped; no request can be answered any more and the server stops")]
    private partial void LogCommitterDied(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replicating a batch in term {Term} failed; this node stops leading")]
    private partial void LogReplicationFailed(Exception? ex, long term);
}

/// <summary>One leadership of this node: its term, and the token DotNext cancels when it ends.</summary>
internal sealed record LeaderEpoch(long Term, CancellationToken Token);

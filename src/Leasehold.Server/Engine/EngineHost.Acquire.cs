using Leasehold.Server.Wire;
using Leasehold.Core;

namespace Leasehold.Server.Engine;

public sealed partial class EngineHost
{
    private const int MaxBlockersReported = 16;

    /// <summary>
    /// Acquires, waiting in the engine's queue when the request allows it. If the caller goes away
    /// (<paramref name="cancellationToken"/>) the waiter leaves the queue; if it was granted in the same
    /// instant, the lease is released again so that nobody holds what no client knows it has.
    /// </summary>
    /// <param name="spec">The request, carrying the lease's token: the engine gets only its hash, the grant shows the token.
    /// When the token is derived from an idempotency key (<see cref="AcquireSpec.ByIdempotencyKey"/>), a live lease with
    /// it is this request's own, granted to an earlier try of it, and is returned instead of a second one.</param>
    /// <param name="cancellationToken">The caller went away: leave the queue.</param>
    /// <param name="watcher">Told when the granted lease ends (not by its watcher's own release), or null.</param>
    internal async Task<AcquireOutcome> AcquireAsync(AcquireSpec spec, CancellationToken cancellationToken, IEndWatcher? watcher = null)
    {
        var (done, pending) = await Submit(new AcquireItem(this, spec, watcher)).ConfigureAwait(false);
        return done ?? await WaitGrantAsync(pending, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An acquire's first step: its final outcome, or the waiter to wait on (exactly one of them).</summary>
    private readonly record struct Started(AcquireOutcome? Done, PendingAcquire? Pending)
    {
        public static implicit operator Started(AcquireOutcome done) => new(done, null);

        public static implicit operator Started(PendingAcquire pending) => new(null, pending);

        public void Deconstruct(out AcquireOutcome? done, out PendingAcquire pending)
        {
            done = Done;
            pending = Pending!;
        }
    }

    private Started StartAcquire(Writer writer, AcquireLease command, bool byIdempotencyKey, IEndWatcher? watcher)
    {
        var token = command.Token;
        var step = StartAcquire(writer, command with { Token = Tokens.Hash(token) }, token, byIdempotencyKey, watcher, answerInline: false);
        if (step.Lease is { } lease)
        {
            return new AcquireOutcome(ErrorCode.None, Dtos.ToDto(lease, writer.Engine, token), Reused: step.Reused);
        }
        return step.Pending is { } pending ? pending : step.Refused!;
    }

    /// <summary>
    /// An acquire's first step on the writer, for front-ends that map the engine's lease themselves: the lease
    /// (granted now, or an idempotent retry's earlier one: <see cref="AcquireStep.Reused"/>), the waiter to wait on,
    /// or the refusal. <paramref name="command"/> carries the token's hash; <paramref name="token"/> is the clear one.
    /// <paramref name="answerInline"/>: the waiter's outcome runs its continuation on the thread that answers the batch
    /// (see <see cref="PendingAcquire"/>).
    /// </summary>
    internal AcquireStep StartAcquire(Writer writer, AcquireLease command, UInt128 token, bool byIdempotencyKey, IEndWatcher? watcher, bool answerInline)
    {
        if (byIdempotencyKey && writer.Engine.FindLeaseByToken(command.Token) is { } earlier)
        {
            // A retry (its answer was lost, or its server died): the derived token names the lease an earlier
            // try got, for this principal only. Returned as it is; nothing is applied or logged. Reused: the
            // earlier try's holder has it, so an undelivered answer must not release it.
            if (watcher is not null)
            {
                Watch(EndedKind.Lease, earlier.Id, watcher);
            }
            return new AcquireStep(earlier, true, null, null);
        }
        var lastFence = writer.Engine.LastFence;
        var result = writer.Run(command, static (e, c) => e.Acquire(c));
        if (result.Lease is { } lease)
        {
            if (watcher is not null)
            {
                Watch(EndedKind.Lease, lease.Id, watcher);
            }
            // Every grant takes a new fence; a reused lease keeps its own.
            return new AcquireStep(lease, lease.Fence <= lastFence, null, null);
        }
        if (result.Waiter is { } waiter)
        {
            var pending = new PendingAcquire(waiter.Id, waiter.Paths, waiter.Mode, token, answerInline) { Watcher = watcher };
            _waiting.Add(waiter.Id, pending);
            return new AcquireStep(null, false, pending, null);
        }
        return new AcquireStep(null, false, null, Failure(writer.Engine, result.Error, result.Detail, command.Paths, command.Mode));
    }

    /// <summary>Waits for a queued acquire's outcome; if the caller goes away, the waiter leaves the queue (see <see cref="AcquireAsync"/>).</summary>
    internal async Task<AcquireOutcome> WaitGrantAsync(PendingAcquire pending, CancellationToken cancellationToken)
    {
        try
        {
            return await pending.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await Submit(new AbandonItem(this, pending)).ConfigureAwait(false);
            throw;
        }
    }

    private AcquireOutcome Failure(LockEngine engine, ErrorCode error, string? detail, ResourcePath[] paths, LockMode mode)
    {
        if (error != ErrorCode.Locked)
        {
            return new AcquireOutcome(error, null, detail);
        }
        var blockers = engine.FindBlockers(paths, mode, MaxBlockersReported);
        var text = blockers.Count > 0 ? $"held by {blockers.Count} lease(s)"
            : paths.Length == 0 && detail is not null ? detail
            : "not held, but earlier waiters queue for it";
        return new AcquireOutcome(error, null, text, [.. blockers.Select(b => Dtos.ToDto(b, engine))]);
    }

    private bool Abandon(Writer writer, PendingAcquire pending)
    {
        _waiting.Remove(pending.WaiterId);
        if (writer.Run(new CancelWait { Now = writer.Now, WaiterId = pending.WaiterId }, static (e, c) => e.Cancel(c)))
        {
            return true;
        }
        // Granted before the cancellation reached the writer: the client will never see the token.
        if (pending.GrantedLeaseId is { } id)
        {
            ForgetGrant(writer, id, pending.Watcher, reused: false);
        }
        return false;
    }

    /// <summary>
    /// Releases a lease whose grant could not be delivered (the client went away, or the answer could not be
    /// written): nobody else knows its token, so nothing may keep it.
    /// </summary>
    public Task ReleaseUndeliveredAsync(long leaseId) => Submit(new ForgetGrantItem(leaseId, null, reused: false));

    /// <summary>
    /// A grant whose answer never reached <paramref name="watcher"/> (it did not fit the client's frame, or the connection
    /// is gone): it is no longer told of the lease's end; unless <paramref name="reused"/> (it existed before and stays),
    /// the lease is released as an undelivered one is.
    /// </summary>
    public Task ForgetUndeliveredGrantAsync(long leaseId, IEndWatcher watcher, bool reused)
        => Submit(new ForgetGrantItem(leaseId, watcher, reused));

    /// <summary>
    /// A grant its client never saw: whoever watched it for the client stops first (it was never told of the lease, so
    /// it must not be told of its end: a native connection would keep that push, for a grant it will never write, for as
    /// long as it lives); then, unless <paramref name="reused"/>, it is released, since nobody else knows its token.
    /// </summary>
    private static bool ForgetGrant(Writer writer, long leaseId, IEndWatcher? watcher, bool reused)
    {
        if (watcher is not null)
        {
            writer.Unwatch(EndedKind.Lease, leaseId, watcher);
        }
        return !reused && ReleaseUnclaimed(writer, leaseId);
    }

    private static bool ReleaseUnclaimed(Writer writer, long leaseId)
        => writer.Engine.GetLease(leaseId) is { } lease
            && writer.Release(lease).Error == ErrorCode.None;

    private sealed class AbandonItem(EngineHost host, PendingAcquire pending) : ValueItem<bool>
    {
        protected override bool Compute(Writer writer) => host.Abandon(writer, pending);
    }

    private sealed class ForgetGrantItem(long leaseId, IEndWatcher? watcher, bool reused) : ValueItem<bool>
    {
        protected override bool Compute(Writer writer) => ForgetGrant(writer, leaseId, watcher, reused);
    }

    /// <summary>Maps the waiters the last command granted or failed; they are answered with the batch.</summary>
    private void CollectOutcomes(Batch batch)
    {
        if (_engine is not { } engine)
        {
            return;
        }
        if (engine.DrainOutcomes() is not { Count: > 0 } outcomes)
        {
            CollectEnded(engine, batch);
            return;
        }
        foreach (var outcome in outcomes)
        {
            if (outcome.Lease is { } granted)
            {
                NoteGranted(granted, granted.WaitedMs);
            }
            if (!_waiting.Remove(outcome.WaiterId, out var pending))
            {
                continue;
            }
            if (outcome.Lease is { } lease)
            {
                pending.GrantedLeaseId = lease.Id;
                if (pending.Watcher is { } watcher)
                {
                    Watch(EndedKind.Lease, lease.Id, watcher);
                }
                batch.Outcomes.Add((pending, new AcquireOutcome(ErrorCode.None, Dtos.ToDto(lease, engine, pending.Token))));
                continue;
            }
            var detail = outcome.Error switch
            {
                ErrorCode.ShuttingDown => "the server is shutting down",
                ErrorCode.SessionEnded => "the session ended while the request waited",
                ErrorCode.LimitMismatch => "the path is now held with a different limit",
                _ => null,
            };
            batch.Outcomes.Add((pending, detail is null
                ? Failure(engine, outcome.Error, null, pending.Paths, pending.Mode)
                : new AcquireOutcome(outcome.Error, null, detail)));
        }
        CollectEnded(engine, batch);
    }

    /// <summary>An acquire's first step: the lease (<paramref name="Reused"/>: it existed before), the waiter, or the refusal; exactly one.</summary>
    internal readonly record struct AcquireStep(Lease? Lease, bool Reused, PendingAcquire? Pending, AcquireOutcome? Refused);

    /// <summary>
    /// A queued acquire. Its outcome completes <see cref="Completion"/> when the batch that decided it is answered; by
    /// default the waiting request's continuation then runs on the thread pool (an HTTP handler's rest of the pipeline
    /// must not run on the thread answering the batch). With <paramref name="answerInline"/> it runs right there, as
    /// the batch's direct answers do: for the native protocol, whose continuation only writes a frame, so that a
    /// handoff's grant goes out without a hop between threads.
    /// </summary>
    internal sealed class PendingAcquire(long waiterId, ResourcePath[] paths, LockMode mode, UInt128 token, bool answerInline)
    {
        /// <summary>The token the grant shows its client; the engine has only its hash.</summary>
        public UInt128 Token { get; } = token;

        /// <summary>Set on the writer when the waiter is granted, before the answer is durable.</summary>
        public long? GrantedLeaseId { get; set; }

        /// <summary>Told when the lease this waiter gets ends, or null.</summary>
        public IEndWatcher? Watcher { get; init; }

        public long WaiterId { get; } = waiterId;

        public ResourcePath[] Paths { get; } = paths;

        public LockMode Mode { get; } = mode;

        public TaskCompletionSource<AcquireOutcome> Completion { get; } = new(answerInline ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

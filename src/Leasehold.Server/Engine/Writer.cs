using Leasehold.Core;

namespace Leasehold.Server.Engine;

/// <summary>
/// What a work item sees on the writer thread: the engine to read, the time of this step, and
/// <see cref="Run{TCommand, TResult}"/> to apply a command, which logs it if it changed anything.
/// </summary>
public sealed class Writer
{
    private readonly EngineHost _host;

    internal Writer(EngineHost host, LockEngine? engine)
    {
        _host = host;
        Engine = engine!;
    }

    /// <summary>The engine. Read it freely here; change it only through <see cref="Run{TCommand, TResult}"/>.</summary>
    public LockEngine Engine { get; internal set; }

    /// <summary><paramref name="watcher"/> is told when the lease or session ends (see <see cref="IEndWatcher"/>).</summary>
    public void Watch(EndedKind kind, long id, IEndWatcher watcher) => _host.Watch(kind, id, watcher);

    /// <summary>Stops telling <paramref name="watcher"/> when the lease or session ends: it ends it itself.</summary>
    public void Unwatch(EndedKind kind, long id, IEndWatcher watcher) => _host.Unwatch(kind, id, watcher);

    /// <summary>Unix milliseconds of this step; stamp commands with it.</summary>
    public long Now { get; internal set; }

    /// <summary>
    /// Releases <paramref name="lease"/> with the token hash the engine keeps for it: for the host's own
    /// decisions (an undelivered grant, an old protocol's release by a name it has already matched).
    /// </summary>
    public OperationResult<Lease> Release(Lease lease)
        => Run(new ReleaseLease { Now = Now, LeaseId = lease.Id, Token = lease.Token }, (e, c) => e.Release(c));

    /// <summary>
    /// Applies <paramref name="command"/> and appends it to the log when the engine's state changed, with
    /// the pool choices the engine made (<see cref="LockEngine.TakeChoices"/>), so replay repeats them
    /// instead of choosing again.
    /// </summary>
    public TResult Run<TCommand, TResult>(TCommand command, Func<LockEngine, TCommand, TResult> apply)
        where TCommand : Command
    {
        // Choices left over (recovery re-deciding records older than logged choices, a command that threw)
        // belong to no command logged here.
        _ = Engine.TakeChoices();
        // Before anything changes: a request over a quota is refused unapplied and unlogged.
        _host.Quotas?.Admit(Engine, command);
        var before = Engine.Changes;
        var lastFence = Engine.LastFence;
        var result = apply(Engine, command);
        // A grant at once (every grant takes a new fence; a lease returned again keeps its own). Grants to waiters are
        // the host's outcomes (CollectOutcomes). A generic test on a value type: no boxing.
        if (result is AcquireResult { Lease: { } granted } && granted.Fence > lastFence)
        {
            _host.NoteGranted(granted, null);
        }
        var choices = Engine.TakeChoices();
        if (Engine.Changes != before)
        {
            _host.Record(choices is null ? command : ((Command)command) with { Choices = choices });
            _host.CollectEvents(Engine);
        }
        return result;
    }
}

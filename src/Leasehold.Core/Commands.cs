using Leasehold.Core.Pools;

namespace Leasehold.Core;

/// <summary>
/// A state change. Applying the same commands in the same order to a new engine gives the same state
/// and the same results: time (<see cref="Now"/>, Unix milliseconds) and secrets come in with the command.
/// </summary>
public abstract record Command
{
    public long Now { get; init; }

    /// <summary>
    /// The pool choices the engine made when this command was first applied (see <see cref="LockEngine.TakeChoices"/>),
    /// logged with it. <see cref="LockEngine.Apply"/> then applies these instead of choosing again, so a
    /// replay gives the same resources even if matching or preference rules changed. Null: choose (a new
    /// command, or a record written before choices were logged).
    /// </summary>
    public PoolChoice[]? Choices { get; init; }
}

/// <summary>Acquire every path of the request, all at once, or wait up to <see cref="WaitMs"/>.</summary>
public sealed record AcquireLease : Command
{
    public required ResourcePath[] Paths { get; init; }

    public LockMode Mode { get; init; }

    /// <summary>The semaphore size for an exclusive request; null for a plain lock (1).</summary>
    public int? Limit { get; init; }

    public long TtlMs { get; init; }

    public long WaitMs { get; init; }

    public long SessionId { get; init; }

    public bool LockParents { get; init; } = true;

    public bool LockChildren { get; init; } = true;

    public string? Owner { get; init; }

    /// <summary>The authenticated caller's name (null: anonymous), kept on the lease or waiter for audit and quotas.</summary>
    public string? Principal { get; init; }

    /// <summary>The secret the lease will carry, chosen by the host from a secure random source.</summary>
    public UInt128 Token { get; init; }

    /// <summary>
    /// Instead of <see cref="Paths"/> (which is then empty): choose declared resources by requirement,
    /// all groups at once or none.
    /// </summary>
    public PoolGroup[]? Groups { get; init; }

    /// <summary>
    /// For a pool request with an owner: if that owner already holds a lease from the same pools with the
    /// same <see cref="Token"/>, renew it and return it instead of granting another (idserver's behaviour).
    /// </summary>
    public bool Reuse { get; init; }

    /// <summary>
    /// Only for a command read from log version 1, written when <see cref="Reuse"/> matched a lease by its
    /// owner alone: replay must decide as that server did. Never logged; never set for a new request.
    /// </summary>
    public bool ReuseByOwnerOnly { get; init; }
}

/// <summary>Declares a resource (or replaces its attributes), so pool requests can choose it.</summary>
public sealed record DeclareResource : Command
{
    public required ResourcePath Path { get; init; }

    /// <summary>The attributes: a JSON object as text.</summary>
    public required string Attributes { get; init; }
}

/// <summary>Removes a declared resource that nobody holds.</summary>
public sealed record RemoveResource : Command
{
    public required ResourcePath Path { get; init; }
}

public sealed record RenewLease : Command
{
    public long LeaseId { get; init; }

    public UInt128 Token { get; init; }

    /// <summary>A new time to live, or 0 to keep the lease's own.</summary>
    public long TtlMs { get; init; }
}

public sealed record ReleaseLease : Command
{
    public long LeaseId { get; init; }

    public UInt128 Token { get; init; }
}

public sealed record OpenSession : Command
{
    public long TtlMs { get; init; }

    public string? Owner { get; init; }

    /// <summary>The authenticated caller's name (null: anonymous).</summary>
    public string? Principal { get; init; }

    public UInt128 Token { get; init; }
}

public sealed record KeepAliveSession : Command
{
    public long SessionId { get; init; }

    public UInt128 Token { get; init; }
}

public sealed record CloseSession : Command
{
    public long SessionId { get; init; }

    public UInt128 Token { get; init; }
}

/// <summary>A waiter's client went away: leave the queue without a trace.</summary>
public sealed record CancelWait : Command
{
    public long WaiterId { get; init; }
}

/// <summary>Time has reached <see cref="Command.Now"/>: expire every lease, session and wait due by then.</summary>
public sealed record Tick : Command;

/// <summary>The server is stopping: answer every waiter with <see cref="ErrorCode.ShuttingDown"/>.</summary>
public sealed record DropWaiters : Command;

/// <summary>
/// Applied once after a restart, before any request: drops the queue (its clients are gone) and restarts
/// the time-to-live clocks (see <see cref="LockEngine.Recover"/>).
/// </summary>
public sealed record Recover : Command
{
    public long SessionGraceMs { get; init; }
}

/// <summary>
/// Applied first by a cluster's new leader, before any request: drops the queue (its clients waited on the old
/// leader) and gives every session at least the grace period to find the new leader. Unlike
/// <see cref="Recover"/>, leases keep their deadlines: the new leader's clock continues the old one's, so each
/// lease keeps its remaining time (see <see cref="LockEngine.TakeOver"/>).
/// </summary>
public sealed record TakeOver : Command
{
    public long SessionGraceMs { get; init; }
}

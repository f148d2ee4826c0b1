using Leasehold.Core.Pools;

namespace Leasehold.Core;

/// <summary>What an <see cref="EngineEvent"/> reports. The names are the event stream's types (docs/events.md).</summary>
public enum EventKind : byte
{
    Granted,
    Renewed,
    Released,
    Queued,
    Dequeued,
    SessionOpened,
    SessionEnded,
    Declared,
    Removed,
    Drained,
    Undrained,
}

/// <summary>Why a waiter left the queue (<see cref="EventKind.Dequeued"/>).</summary>
public enum DequeueReason : byte
{
    /// <summary>It was granted: its <see cref="EventKind.Granted"/> event follows.</summary>
    Granted,
    Timeout,

    /// <summary>Its client went away (a cancelled wait).</summary>
    Cancelled,
    SessionEnded,

    /// <summary>The server stopped (or restarted): its client is gone.</summary>
    ShuttingDown,

    /// <summary>A cluster's new leader dropped the queue: its client waits again on the new leader.</summary>
    LeaderChanged,

    /// <summary>The path is now held with another semaphore limit.</summary>
    LimitMismatch,

    /// <summary>A pool request no declared resources can serve any more.</summary>
    NoMatch,
}

/// <summary>
/// One change the engine made, numbered by <see cref="LockEngine.Revision"/> and stamped with its command's time
/// (<see cref="At"/>). It names the engine's objects (read them on the writer, right after the command, as the
/// host does) and copies what a later command could change on them (a lease's or session's expiry and ttl, a
/// resource's attributes). A value: recording it allocates nothing beyond the list's growth.
/// </summary>
/// <param name="Revision">The event's number: one more than the previous event's, over the whole tree.</param>
/// <param name="Kind">What happened.</param>
/// <param name="At">The command's time (Unix milliseconds).</param>
/// <param name="Lease">Granted, renewed, released: the lease.</param>
/// <param name="Waiter">Queued, dequeued: the waiter.</param>
/// <param name="Session">Session opened or ended: the session.</param>
/// <param name="Path">Declared, removed, drained, undrained: the path.</param>
/// <param name="Text">Declared: the attributes (JSON); drained, undrained, released or session ended by an administrator: who.</param>
/// <param name="ExpiresAt">A lease's or session's expiry when the event happened (<see cref="long.MaxValue"/>: never).</param>
/// <param name="TtlMs">A lease's or session's ttl when the event happened.</param>
/// <param name="EndReason">Released, session ended: why (a session closed with its token is <see cref="Pools.EndReason.Released"/>).</param>
/// <param name="DequeueReason">Dequeued: why.</param>
/// <param name="Leases">Session opened or ended: its lease count then (ending it ends them, in the same command).</param>
public readonly record struct EngineEvent(
    long Revision,
    EventKind Kind,
    long At,
    Lease? Lease = null,
    Waiter? Waiter = null,
    Session? Session = null,
    ResourcePath? Path = null,
    string? Text = null,
    long ExpiresAt = 0,
    long TtlMs = 0,
    EndReason EndReason = EndReason.Released,
    DequeueReason DequeueReason = DequeueReason.Granted,
    int Leases = 0);

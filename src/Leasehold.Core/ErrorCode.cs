namespace Leasehold.Core;

/// <summary>
/// The closed set of outcomes the engine reports. The numbers are persisted and sent on the wire:
/// never renumber, only add.
/// </summary>
public enum ErrorCode : byte
{
    None = 0,

    /// <summary>Not granted within the wait: held by others, or behind earlier waiters.</summary>
    Locked = 1,

    /// <summary>No such lease, session or waiter (never existed, released, or expired).</summary>
    NotFound = 2,

    /// <summary>The token does not match.</summary>
    InvalidToken = 3,

    /// <summary>A path is malformed.</summary>
    InvalidPath = 4,

    /// <summary>An argument is out of range or inconsistent with another.</summary>
    InvalidArgument = 5,

    /// <summary>The request's limit disagrees with the limit of the path's current holders.</summary>
    LimitMismatch = 6,

    /// <summary>The server is shutting down; the request was not granted.</summary>
    ShuttingDown = 7,

    /// <summary>The session the request was bound to ended while it waited.</summary>
    SessionEnded = 8,

    /// <summary>A requirement query is malformed or uses an unknown operator.</summary>
    InvalidQuery = 9,

    /// <summary>No declared resource could ever satisfy the request (not merely busy).</summary>
    NoMatch = 10,

    /// <summary>The resource is held, so it cannot be removed now.</summary>
    ResourceBusy = 11,

    /// <summary>Not granted within the wait because a path lies in a drained prefix (maintenance).</summary>
    Draining = 12,
}

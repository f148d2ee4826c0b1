namespace Leasehold.Protocol.Native;

/// <summary>
/// The message types of the native protocol (docs/protocol.md). 0x01–0x7F go from client to server,
/// 0x80–0xFF from server to client. Values are on the wire: never renumber one.
/// </summary>
public enum FrameType : byte
{
    Hello = 0x01,
    Ping = 0x02,
    Acquire = 0x10,
    Cancel = 0x11,
    Release = 0x12,
    Renew = 0x13,
    GetLease = 0x14,
    SessionOpen = 0x20,
    SessionKeepAlive = 0x21,
    SessionClose = 0x22,
    Watch = 0x30,
    Call = 0x40,

    Welcome = 0x81,
    Pong = 0x82,
    Lease = 0x90,
    Ok = 0x92,
    Session = 0xA0,
    Result = 0xC0,
    LeaseEnded = 0xE0,
    SessionEnded = 0xE1,

    /// <summary>One event of a WATCH, carrying the WATCH's id.</summary>
    Event = 0xE2,

    /// <summary>A WATCH has begun, carrying its id and the revision it starts after.</summary>
    Watching = 0xE3,
    Error = 0xFF,
}

/// <summary>ACQUIRE's flags.</summary>
[Flags]
public enum AcquireFlags : byte
{
    None = 0,
    Shared = 1,
    LockParents = 2,
    LockChildren = 4,
    Reuse = 8,
}

/// <summary>LEASE's flags.</summary>
[Flags]
public enum LeaseFlags : byte
{
    None = 0,
    Shared = 1,
    LockParents = 2,
    LockChildren = 4,
}

/// <summary>SESSION_OPEN's flags.</summary>
[Flags]
public enum SessionFlags : byte
{
    None = 0,

    /// <summary>Kept alive by the server while the connection that opened it lives.</summary>
    Bound = 1,
}

/// <summary>WATCH's flags.</summary>
[Flags]
public enum WatchFlags : byte
{
    None = 0,

    /// <summary>Start with a <c>snapshot</c> event of the state under the prefix.</summary>
    Snapshot = 1,
}

/// <summary>EVENT's flags.</summary>
[Flags]
public enum EventFlags : byte
{
    None = 0,

    /// <summary>The event's JSON goes on in the next EVENT of the same WATCH (an event larger than a frame).</summary>
    Continued = 1,
}

/// <summary>Constants of the protocol.</summary>
public static class NativeProtocol
{
    /// <summary>The version this code speaks.</summary>
    public const byte Version = 1;

    /// <summary>Bytes before the payload: length (4), type (1), id (4).</summary>
    public const int HeaderSize = 9;

    /// <summary>The smallest <c>length</c> field: type and id.</summary>
    public const int MinLength = 5;

    /// <summary>The default largest frame (its <c>length</c> field), 1 MiB.</summary>
    public const int DefaultMaxFrameBytes = 1 << 20;

    /// <summary>The default number of requests in flight per connection.</summary>
    public const int DefaultMaxInFlight = 1024;

    /// <summary>The default native port.</summary>
    public const int DefaultPort = 8766;

    /// <summary>The null length of <c>str?</c>.</summary>
    public const ushort NullString = 0xFFFF;

    /// <summary>The null length of <c>bytes?</c>.</summary>
    public const uint NullBytes = 0xFFFFFFFF;

    /// <summary>The longest <c>str</c>, in UTF-8 bytes.</summary>
    public const int MaxStringBytes = 0xFFFE;

    /// <summary>HELLO's magic, "LHP1".</summary>
    public static ReadOnlySpan<byte> Magic => "LHP1"u8;

    /// <summary>The codes only the native protocol gives (docs/protocol.md, docs/http-api.md).</summary>
    public const string ProtocolError = "protocol-error";
    public const string UnsupportedVersion = "unsupported-version";
    public const string FrameTooLarge = "frame-too-large";
    public const string InvalidFrame = "invalid-frame";
    public const string UnknownMessage = "unknown-message";
    public const string Cancelled = "cancelled";
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace Leasehold.Protocol;

/// <summary>
/// One message of the event stream (<c>GET /v1/events</c>, docs/events.md): a change (<c>granted</c>,
/// <c>renewed</c>, <c>released</c>, <c>queued</c>, <c>dequeued</c>, <c>session-opened</c>, <c>session-ended</c>,
/// <c>declared</c>, <c>removed</c>, <c>drained</c>, <c>undrained</c>) or a stream control message
/// (<c>snapshot</c>, <c>reset</c>, <c>cut-off</c>). Only the fields of its type are present. Lease tokens never are.
/// Readers must ignore types and fields they do not know.
/// </summary>
public sealed record EventDto
{
    /// <summary>The event's revision (a control message: the revision it refers to).</summary>
    public long Revision { get; init; }

    public required string Type { get; init; }

    /// <summary>The time of the command that caused it (a control message: when it was sent).</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>granted, renewed, released: the lease, without its token.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public LeaseDto? Lease { get; init; }

    /// <summary>granted: seconds the request queued (0 if it did not).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Waited { get; init; }

    /// <summary>released: seconds the lease was held.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Held { get; init; }

    /// <summary>released, dequeued, session-ended, reset, cut-off: why.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Reason { get; init; }

    /// <summary>released, session-ended: the administrator who revoked it (or ended its session).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? EndedBy { get; init; }

    /// <summary>queued, dequeued: the waiting request.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public WaiterDto? Waiter { get; init; }

    /// <summary>session-opened, session-ended: the session, without its token.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SessionDto? Session { get; init; }

    /// <summary>declared, removed, drained, undrained: the path.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Path { get; init; }

    /// <summary>declared: the resource's attributes.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Attributes { get; init; }

    /// <summary>drained, undrained: the administrator.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Actor { get; init; }

    /// <summary>snapshot: the leases under the prefix.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public LeaseDto[]? Holders { get; init; }

    /// <summary>snapshot: the waiting requests under the prefix, oldest first.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public WaiterDto[]? Queue { get; init; }

    /// <summary>snapshot: the declared resources under the prefix.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DeclaredResourceDto[]? Resources { get; init; }

    /// <summary>snapshot: the drained prefixes that concern the prefix (at, above or under it), by path.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DrainDto[]? Drains { get; init; }

    /// <summary>snapshot: true when a list was cut at <c>Leasehold:Events:SnapshotLimit</c> entries (the rest exists but is not listed).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Truncated { get; init; }
}

/// <summary>The <c>type</c> values of <see cref="EventDto"/>.</summary>
public static class EventTypes
{
    public const string Granted = "granted";
    public const string Renewed = "renewed";
    public const string Released = "released";
    public const string Queued = "queued";
    public const string Dequeued = "dequeued";
    public const string SessionOpened = "session-opened";
    public const string SessionEnded = "session-ended";
    public const string Declared = "declared";
    public const string Removed = "removed";
    public const string Drained = "drained";
    public const string Undrained = "undrained";
    public const string Snapshot = "snapshot";
    public const string Reset = "reset";
    public const string CutOff = "cut-off";
}

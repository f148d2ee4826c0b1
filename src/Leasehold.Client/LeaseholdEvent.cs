using System.Text.Json;
using Leasehold.Protocol;

namespace Leasehold.Client;

/// <summary>
/// One message of the event stream (docs/events.md), as <see cref="LeaseholdClient.WatchAsync"/> yields it: a change
/// (<c>granted</c>, <c>released</c>, <c>queued</c>, ...) or a stream control message (<c>snapshot</c>, <c>reset</c>).
/// Only the fields of its <see cref="Type"/> are set; types this client does not know come through too, with
/// <see cref="Json"/> as the server sent it.
/// </summary>
public sealed class LeaseholdEvent
{
    internal LeaseholdEvent(EventDto dto, string json)
    {
        Dto = dto;
        Json = json;
    }

    /// <summary>The event's revision (a snapshot's or reset's: the revision the state is as of).</summary>
    public long Revision => Dto.Revision;

    /// <summary>The event's type: one of <see cref="EventTypes"/>, or one a later server added.</summary>
    public string Type => Dto.Type;

    /// <summary>The time of the command that caused it.</summary>
    public DateTimeOffset At => Dto.At;

    /// <summary>granted, renewed, released: the lease (without its token).</summary>
    public LeaseDto? Lease => Dto.Lease;

    /// <summary>granted: seconds the request queued.</summary>
    public double? Waited => Dto.Waited;

    /// <summary>released: seconds the lease was held.</summary>
    public double? Held => Dto.Held;

    /// <summary>released, dequeued, session-ended, reset: why.</summary>
    public string? Reason => Dto.Reason;

    /// <summary>released, session-ended: the administrator who ended it.</summary>
    public string? EndedBy => Dto.EndedBy;

    /// <summary>queued, dequeued: the waiting request.</summary>
    public WaiterDto? Waiter => Dto.Waiter;

    /// <summary>session-opened, session-ended: the session (without its token).</summary>
    public SessionDto? Session => Dto.Session;

    /// <summary>declared, removed, drained, undrained: the path.</summary>
    public string? Path => Dto.Path;

    /// <summary>declared: the resource's attributes.</summary>
    public JsonElement? Attributes => Dto.Attributes;

    /// <summary>drained, undrained: the administrator.</summary>
    public string? Actor => Dto.Actor;

    /// <summary>snapshot: the leases under the prefix.</summary>
    public IReadOnlyList<LeaseDto>? Holders => Dto.Holders;

    /// <summary>snapshot: the waiting requests under the prefix, oldest first.</summary>
    public IReadOnlyList<WaiterDto>? Queue => Dto.Queue;

    /// <summary>snapshot: the declared resources under the prefix.</summary>
    public IReadOnlyList<DeclaredResourceDto>? Resources => Dto.Resources;

    /// <summary>The paths the event is about: its lease's, its waiter's, or its path; none for a session or a control message.</summary>
    public IReadOnlyList<string> Paths => Lease?.Paths ?? Waiter?.Paths ?? (Path is { } path ? [path] : []);

    /// <summary>A <c>reset</c>: the events asked for are not all kept; drop what you knew, a <c>snapshot</c> follows.</summary>
    public bool IsReset => Type == EventTypes.Reset;

    /// <summary>A <c>snapshot</c>: the state under the prefix as of <see cref="Revision"/>.</summary>
    public bool IsSnapshot => Type == EventTypes.Snapshot;

    /// <summary>The protocol's record of the event.</summary>
    public EventDto Dto { get; }

    /// <summary>The event's JSON object exactly as the server sent it (one line).</summary>
    public string Json { get; }

    public override string ToString() => Json;

    /// <summary>Reads one message's JSON; null for one that is not an event object.</summary>
    internal static LeaseholdEvent? Parse(byte[] json)
    {
        EventDto? dto;
        try
        {
            dto = JsonSerializer.Deserialize(json, ProtocolJsonContext.Default.EventDto);
        }
        catch (JsonException)
        {
            return null;
        }
        return dto is null ? null : new LeaseholdEvent(dto, System.Text.Encoding.UTF8.GetString(json));
    }
}

/// <summary>Where <see cref="LeaseholdClient.WatchAsync"/> starts.</summary>
public sealed record WatchOptions
{
    /// <summary>Start with a <c>snapshot</c> event of the state under the prefix (not when <see cref="After"/> can be served from the server's history).</summary>
    public bool Snapshot { get; init; }

    /// <summary>The last revision already seen: the events after it (or a <c>reset</c> and a snapshot when the server no longer keeps them all). Null: from now on.</summary>
    public long? After { get; init; }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using Leasehold.Core;
using Leasehold.Protocol;

namespace Leasehold.Server.Events;

/// <summary>
/// One event as the hub keeps and hands it out: immutable, shared by the history and every stream. Made on the
/// writer from the engine's event, with what a later command could change copied (<see cref="EventMapping.Capture"/>);
/// its record (<see cref="Dto"/>) and wire form (<see cref="Sse"/>) are built on first use, off the writer, so an
/// event nobody reads costs one small object.
/// </summary>
public sealed class PublishedEvent
{
    private EventDto? _dto;
    private byte[]? _sse;

    internal PublishedEvent(in EngineEvent e, ResourcePath[] paths, ChosenResourceDto[]? chosen = null, int leases = 0, JsonElement? attributes = null)
    {
        Event = e;
        Paths = paths;
        Chosen = chosen;
        Leases = leases;
        Attributes = attributes;
        Weight = Estimate(paths, chosen, attributes);
    }

    /// <summary>
    /// About how many bytes the event holds once its record and wire form are built (what the history's
    /// <c>HistoryBytes</c> counts): a fixed part, its paths, and its attributes (declared, or a pool lease's
    /// chosen resources'), each held as JSON and again in the encoded message.
    /// </summary>
    internal long Weight { get; }

    private static long Estimate(ResourcePath[] paths, ChosenResourceDto[]? chosen, JsonElement? attributes)
    {
        long bytes = 512;
        foreach (var path in paths)
        {
            bytes += 4L * path.Value.Length;
        }
        if (attributes is { } declared)
        {
            bytes += 3L * System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(declared).Length;
        }
        foreach (var resource in chosen ?? [])
        {
            bytes += 64 + 4L * resource.Path.Length
                + (resource.Attributes is { } a ? 3L * System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(a).Length : 0);
        }
        return bytes;
    }

    /// <summary>The engine's event. Its lease, waiter or session may be read only for the fields that never change.</summary>
    internal EngineEvent Event { get; }

    /// <summary>A pool lease's chosen resources with their attributes, as they were.</summary>
    internal ChosenResourceDto[]? Chosen { get; }

    /// <summary>A session's lease count, as it was.</summary>
    internal int Leases { get; }

    /// <summary>A declared resource's attributes, as declared.</summary>
    internal JsonElement? Attributes { get; }

    public long Revision => Event.Revision;

    /// <summary>The paths the event touches; a stream gets it when one of them lies at or under its prefix.</summary>
    public IReadOnlyList<ResourcePath> Paths { get; }

    /// <summary>What the stream sends, as the protocol's record (built once, on first use).</summary>
    public EventDto Dto
    {
        get
        {
            if (Volatile.Read(ref _dto) is { } built)
            {
                return built;
            }
            // Two threads may both build it: the same record, and one of them is kept.
            return Interlocked.CompareExchange(ref _dto, EventMapping.Build(this), null) ?? _dto!;
        }
    }

    /// <summary>A session's event (opened, ended): it names an owner and a principal, so only callers with the admin right on <c>/</c> get it (docs/security.md).</summary>
    public bool IsSession => Event.Kind is EventKind.SessionOpened or EventKind.SessionEnded;

    /// <summary>Whether a stream of <paramref name="prefix"/> gets the event.</summary>
    public bool Touches(ResourcePath prefix)
    {
        if (prefix.Depth == 0)
        {
            return true;
        }
        var kind = Event.Kind;
        if (kind is EventKind.SessionOpened or EventKind.SessionEnded)
        {
            // A session touches no path: only streams of the whole tree get its events.
            return false;
        }
        // A drain or undrain also concerns the streams of the paths below it.
        var related = kind is EventKind.Drained or EventKind.Undrained;
        foreach (var path in Paths)
        {
            if (prefix.IsAncestorOrSelf(path) || (related && path.IsAncestorOrSelf(prefix)))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The SSE message (<c>id</c>, <c>event</c>, <c>data</c>, blank line), encoded once for every stream.</summary>
    public ReadOnlyMemory<byte> Sse
    {
        get
        {
            if (Volatile.Read(ref _sse) is { } encoded)
            {
                return encoded;
            }
            return Interlocked.CompareExchange(ref _sse, Encode(Dto, withId: true), null) ?? _sse!;
        }
    }

    /// <summary>The event's JSON, the SSE message's <c>data</c> (a slice of <see cref="Sse"/>): what the native protocol's EVENT carries.</summary>
    public ReadOnlyMemory<byte> Json
    {
        get
        {
            var sse = Sse;
            var data = sse.Span.IndexOf("\ndata: "u8) + "\ndata: "u8.Length;
            // Without the blank line that ends the message.
            return sse[data..^2];
        }
    }

    /// <summary>One SSE message for <paramref name="dto"/>; control messages carry no <c>id</c> (they do not move a reader's place).</summary>
    internal static byte[] Encode(EventDto dto, bool withId)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(dto, ProtocolJsonContext.Default.EventDto);
        var head = withId
            ? string.Create(CultureInfo.InvariantCulture, $"id: {dto.Revision}\nevent: {dto.Type}\ndata: ")
            : $"event: {dto.Type}\ndata: ";
        var bytes = new byte[Encoding.UTF8.GetByteCount(head) + json.Length + 2];
        var at = Encoding.UTF8.GetBytes(head, bytes);
        json.CopyTo(bytes.AsSpan(at));
        bytes[^2] = (byte)'\n';
        bytes[^1] = (byte)'\n';
        return bytes;
    }
}

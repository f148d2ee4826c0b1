using System.Text;
using System.Text.Json;
using Leasehold.Core;
using Leasehold.Protocol;

namespace Leasehold.Server.Events;

/// <summary>
/// One event as the hub keeps and hands it out: immutable, shared by the history and every stream. Built on the
/// writer from the engine's event (<see cref="EventMapping"/>), published once its batch is durable.
/// </summary>
public sealed class PublishedEvent
{
    private byte[]? _sse;

    internal PublishedEvent(EventDto dto, ResourcePath[] paths, bool anyPrefix = false, bool related = false)
    {
        Dto = dto;
        Paths = paths;
        AnyPrefix = anyPrefix;
        Related = related;
    }

    public long Revision => Dto.Revision;

    /// <summary>What the stream sends, as the protocol's record.</summary>
    public EventDto Dto { get; }

    /// <summary>The paths the event touches; a stream gets it when one of them lies at or under its prefix.</summary>
    public IReadOnlyList<ResourcePath> Paths { get; }

    // A session's events touch no path: only streams of the whole tree get them.
    private bool AnyPrefix { get; }

    // A drain or undrain also concerns the streams of the paths below it.
    private bool Related { get; }

    /// <summary>Whether a stream of <paramref name="prefix"/> gets the event.</summary>
    public bool Touches(ResourcePath prefix)
    {
        if (prefix.Depth == 0)
        {
            return true;
        }
        if (AnyPrefix)
        {
            return false;
        }
        foreach (var path in Paths)
        {
            if (prefix.IsAncestorOrSelf(path) || (Related && path.IsAncestorOrSelf(prefix)))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The SSE message (<c>id</c>, <c>event</c>, <c>data</c>, blank line), encoded once for every stream.</summary>
    public ReadOnlyMemory<byte> Sse => _sse ??= Encode(Dto, withId: true);

    /// <summary>One SSE message for <paramref name="dto"/>; control messages carry no <c>id</c> (they do not move a reader's place).</summary>
    internal static byte[] Encode(EventDto dto, bool withId)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(dto, ProtocolJsonContext.Default.EventDto);
        var head = withId ? $"id: {dto.Revision}\nevent: {dto.Type}\ndata: " : $"event: {dto.Type}\ndata: ";
        var bytes = new byte[Encoding.UTF8.GetByteCount(head) + json.Length + 2];
        var at = Encoding.UTF8.GetBytes(head, bytes);
        json.CopyTo(bytes.AsSpan(at));
        bytes[^2] = (byte)'\n';
        bytes[^1] = (byte)'\n';
        return bytes;
    }
}

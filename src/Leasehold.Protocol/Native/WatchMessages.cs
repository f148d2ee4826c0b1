namespace Leasehold.Protocol.Native;

/// <summary>WATCH (0x30): the events touching a prefix, as <c>GET /v1/events</c> streams them; in flight until CANCEL or a cut-off.</summary>
/// <param name="Prefix">Only events touching a path at or under it.</param>
/// <param name="After">The last revision the client saw (as <c>Last-Event-ID</c>); -1: none.</param>
/// <param name="Flags">Bit 0: start with a snapshot.</param>
public readonly record struct WatchMessage(string Prefix, long After, WatchFlags Flags) : INativeMessage<WatchMessage>
{
    public static FrameType Type => FrameType.Watch;

    public int PayloadSize => PayloadWriter.SizeOf(Prefix) + 8 + 1;

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.String(Prefix);
        writer.I64(After);
        writer.U8((byte)Flags);
    }

    public static bool TryRead(ref PayloadReader reader, out WatchMessage message)
    {
        message = default;
        if (!reader.TryString(out var prefix) || !reader.TryI64(out var after) || !reader.TryU8(out var flags)
            || (flags & ~(byte)WatchFlags.Snapshot) != 0)
        {
            return false;
        }
        message = new WatchMessage(prefix, after, (WatchFlags)flags);
        return true;
    }
}

/// <summary>WATCHING (0xE3, with the WATCH's id): the watch is registered; every event that follows has a revision above <see cref="After"/>.</summary>
public readonly record struct WatchingMessage(ulong After) : INativeMessage<WatchingMessage>
{
    public static FrameType Type => FrameType.Watching;

    public int PayloadSize => 8;

    public void WritePayload(ref PayloadWriter writer) => writer.U64(After);

    public static bool TryRead(ref PayloadReader reader, out WatchingMessage message)
    {
        var ok = reader.TryU64(out var after);
        message = new WatchingMessage(after);
        return ok;
    }
}

/// <summary>
/// EVENT (0xE2, with the WATCH's id): one event's JSON, the object an SSE <c>data</c> line carries. An event larger
/// than a frame comes in several EVENTs in a row, each but the last with <see cref="EventFlags.Continued"/>.
/// </summary>
public readonly record struct EventMessage(EventFlags Flags, ReadOnlyMemory<byte> Json) : INativeMessage<EventMessage>
{
    /// <summary>The payload's bytes besides the JSON: flags (1) and the length (4).</summary>
    public const int Overhead = 5;

    public static FrameType Type => FrameType.Event;

    public int PayloadSize => Overhead + Json.Length;

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.U8((byte)Flags);
        writer.Bytes(Json.Span, isNull: false);
    }

    public static bool TryRead(ref PayloadReader reader, out EventMessage message)
    {
        message = default;
        if (!reader.TryU8(out var flags) || (flags & ~(byte)EventFlags.Continued) != 0 || !reader.TryNullableBytes(out var json) || json is null)
        {
            return false;
        }
        message = new EventMessage((EventFlags)flags, json);
        return true;
    }
}

using System.Buffers;
using System.Buffers.Binary;

namespace Leasehold.Protocol.Native;

/// <summary>What <see cref="FrameReader.TryRead"/> found at the start of the buffer.</summary>
public enum FrameStatus
{
    /// <summary>Not a whole frame yet: read more and try again (the buffer is unchanged).</summary>
    NeedMore,

    /// <summary>A whole frame; the buffer now starts after it.</summary>
    Frame,

    /// <summary>The length is over the limit: the frame is not read; the connection should be closed.</summary>
    TooLarge,

    /// <summary>The length is under 5 (no room for type and id): the stream cannot be trusted; close.</summary>
    TooSmall,
}

/// <summary>One frame: its type, id and payload (a slice of the buffer it was read from, valid until that buffer is advanced past).</summary>
public readonly struct Frame(FrameType type, uint id, ReadOnlySequence<byte> payload)
{
    public FrameType Type { get; } = type;

    public uint Id { get; } = id;

    public ReadOnlySequence<byte> Payload { get; } = payload;
}

/// <summary>Cuts frames out of a byte stream.</summary>
public static class FrameReader
{
    /// <summary>
    /// Reads the frame at the start of <paramref name="buffer"/>. On <see cref="FrameStatus.Frame"/> the buffer is
    /// advanced past it; otherwise it is unchanged. <paramref name="length"/> is the frame's <c>length</c> field
    /// when it could be read (for TooLarge and TooSmall), else 0.
    /// </summary>
    public static FrameStatus TryRead(ref ReadOnlySequence<byte> buffer, int maxFrameBytes, out Frame frame, out uint length)
    {
        frame = default;
        length = 0;
        if (buffer.Length < 4)
        {
            return FrameStatus.NeedMore;
        }
        Span<byte> head = stackalloc byte[NativeProtocol.HeaderSize];
        var first = buffer.FirstSpan;
        if (first.Length >= 4)
        {
            length = BinaryPrimitives.ReadUInt32BigEndian(first);
        }
        else
        {
            buffer.Slice(0, 4).CopyTo(head);
            length = BinaryPrimitives.ReadUInt32BigEndian(head);
        }
        if (length > (uint)maxFrameBytes)
        {
            return FrameStatus.TooLarge;
        }
        if (length < NativeProtocol.MinLength)
        {
            return FrameStatus.TooSmall;
        }
        if (buffer.Length < 4 + (long)length)
        {
            return FrameStatus.NeedMore;
        }
        if (first.Length >= NativeProtocol.HeaderSize)
        {
            first[..NativeProtocol.HeaderSize].CopyTo(head);
        }
        else
        {
            buffer.Slice(0, NativeProtocol.HeaderSize).CopyTo(head);
        }
        var type = (FrameType)head[4];
        var id = BinaryPrimitives.ReadUInt32BigEndian(head[5..]);
        var payload = buffer.Slice(NativeProtocol.HeaderSize, length - 5);
        frame = new Frame(type, id, payload);
        buffer = buffer.Slice(payload.End);
        return FrameStatus.Frame;
    }
}

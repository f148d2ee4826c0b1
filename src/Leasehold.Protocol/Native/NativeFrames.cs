using System.Buffers;
using System.Diagnostics;

namespace Leasehold.Protocol.Native;

/// <summary>A message of the native protocol: measured, written and read without boxing (static abstract members, struct constraint).</summary>
public interface INativeMessage<TSelf> where TSelf : struct, INativeMessage<TSelf>
{
    /// <summary>The frame type that carries it.</summary>
    static abstract FrameType Type { get; }

    /// <summary>The payload's size in bytes.</summary>
    int PayloadSize { get; }

    /// <summary>Writes the payload (exactly <see cref="PayloadSize"/> bytes).</summary>
    void WritePayload(ref PayloadWriter writer);

    /// <summary>Reads the fields; false when one is cut short or malformed. Trailing bytes are checked by the caller.</summary>
    static abstract bool TryRead(ref PayloadReader reader, out TSelf message);
}

/// <summary>Writes and parses whole frames.</summary>
public static class NativeFrames
{
    /// <summary>Writes one frame (header and payload) straight into <paramref name="output"/>.</summary>
    public static void Write<T>(IBufferWriter<byte> output, uint id, in T message) where T : struct, INativeMessage<T>
    {
        var payload = message.PayloadSize;
        var total = NativeProtocol.HeaderSize + payload;
        var writer = new PayloadWriter(output.GetSpan(total));
        writer.U32((uint)(payload + NativeProtocol.MinLength));
        writer.U8((byte)T.Type);
        writer.U32(id);
        message.WritePayload(ref writer);
        Debug.Assert(writer.Written == total, "a message's PayloadSize disagrees with what it wrote");
        output.Advance(total);
    }

    /// <summary>Writes a frame whose payload is the given bytes as they are (PING, PONG, OK).</summary>
    public static void WriteRaw(IBufferWriter<byte> output, FrameType type, uint id, in ReadOnlySequence<byte> payload)
    {
        var total = NativeProtocol.HeaderSize + (int)payload.Length;
        var span = output.GetSpan(total);
        var writer = new PayloadWriter(span);
        writer.U32((uint)(payload.Length + NativeProtocol.MinLength));
        writer.U8((byte)type);
        writer.U32(id);
        payload.CopyTo(span[NativeProtocol.HeaderSize..]);
        output.Advance(total);
    }

    /// <summary>Parses a whole payload: false when a field is cut short or malformed, or bytes are left over.</summary>
    public static bool TryParse<T>(in ReadOnlySequence<byte> payload, out T message) where T : struct, INativeMessage<T>
    {
        var reader = new PayloadReader(payload);
        return T.TryRead(ref reader, out message) && reader.End;
    }
}

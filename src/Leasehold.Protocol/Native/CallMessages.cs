namespace Leasehold.Protocol.Native;

/// <summary>CALL (0x40): one HTTP request run through the server's HTTP pipeline.</summary>
public readonly record struct CallMessage(string Method, string Target, byte[]? Body) : INativeMessage<CallMessage>
{
    public static FrameType Type => FrameType.Call;

    public int PayloadSize => PayloadWriter.SizeOf(Method) + PayloadWriter.SizeOf(Target) + PayloadWriter.SizeOf(Body);

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.String(Method);
        writer.String(Target);
        writer.Bytes(Body, Body is null);
    }

    public static bool TryRead(ref PayloadReader reader, out CallMessage message)
    {
        message = default;
        if (!reader.TryString(out var method) || !reader.TryString(out var target) || !reader.TryNullableBytes(out var body))
        {
            return false;
        }
        message = new CallMessage(method, target, body);
        return true;
    }
}

/// <summary>RESULT (0xC0): CALL's HTTP answer.</summary>
public readonly record struct ResultMessage(ushort Status, string? ContentType, byte[]? Body) : INativeMessage<ResultMessage>
{
    public static FrameType Type => FrameType.Result;

    public int PayloadSize => 2 + PayloadWriter.SizeOf(ContentType) + PayloadWriter.SizeOf(Body);

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.U16(Status);
        writer.String(ContentType);
        writer.Bytes(Body, Body is null);
    }

    public static bool TryRead(ref PayloadReader reader, out ResultMessage message)
    {
        message = default;
        if (!reader.TryU16(out var status) || !reader.TryNullableString(out var type) || !reader.TryNullableBytes(out var body))
        {
            return false;
        }
        message = new ResultMessage(status, type, body);
        return true;
    }
}

namespace Leasehold.Protocol.Native;

/// <summary>HELLO (0x01): the client's first frame.</summary>
public readonly record struct HelloMessage(byte Version, string? Credential, string? ClientName) : INativeMessage<HelloMessage>
{
    public static FrameType Type => FrameType.Hello;

    public int PayloadSize => 4 + 1 + PayloadWriter.SizeOf(Credential) + PayloadWriter.SizeOf(ClientName);

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.Raw(NativeProtocol.Magic);
        writer.U8(Version);
        writer.String(Credential);
        writer.String(ClientName);
    }

    /// <summary>
    /// False for a bad magic or a malformed version-1 HELLO. Another version's fields are not read (a later
    /// version may lay them out differently): the message then has only <see cref="Version"/>.
    /// </summary>
    public static bool TryRead(ref PayloadReader reader, out HelloMessage message)
    {
        message = default;
        if (!reader.TryU32(out var magic) || magic != 0x4C485031 || !reader.TryU8(out var version))
        {
            return false;
        }
        if (version != NativeProtocol.Version)
        {
            reader.ReadRest();
            message = new HelloMessage(version, null, null);
            return true;
        }
        if (!reader.TryNullableString(out var credential) || !reader.TryNullableString(out var name))
        {
            return false;
        }
        message = new HelloMessage(version, credential, name);
        return true;
    }
}

/// <summary>WELCOME (0x81): the server's answer to HELLO.</summary>
public readonly record struct WelcomeMessage(byte Version, uint MaxFrameBytes, uint MaxInFlight, string Server, string Role, uint IdleMs)
    : INativeMessage<WelcomeMessage>
{
    public static FrameType Type => FrameType.Welcome;

    public int PayloadSize => 1 + 4 + 4 + PayloadWriter.SizeOf(Server) + PayloadWriter.SizeOf(Role) + 4;

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.U8(Version);
        writer.U32(MaxFrameBytes);
        writer.U32(MaxInFlight);
        writer.String(Server);
        writer.String(Role);
        writer.U32(IdleMs);
    }

    public static bool TryRead(ref PayloadReader reader, out WelcomeMessage message)
    {
        message = default;
        if (!reader.TryU8(out var version) || !reader.TryU32(out var maxFrame) || !reader.TryU32(out var maxInFlight)
            || !reader.TryString(out var server) || !reader.TryString(out var role) || !reader.TryU32(out var idle))
        {
            return false;
        }
        message = new WelcomeMessage(version, maxFrame, maxInFlight, server, role, idle);
        return true;
    }
}

/// <summary>ERROR (0xFF): a request's failure (its id) or the connection's (id 0).</summary>
public readonly record struct ErrorMessage(string Code, ushort Status, string Detail, long RetryAfterMs, byte[]? Extensions)
    : INativeMessage<ErrorMessage>
{
    public static FrameType Type => FrameType.Error;

    public int PayloadSize => PayloadWriter.SizeOf(Code) + 2 + PayloadWriter.SizeOf(Detail) + 8 + PayloadWriter.SizeOf(Extensions);

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.String(Code);
        writer.U16(Status);
        writer.String(Detail);
        writer.I64(RetryAfterMs);
        writer.Bytes(Extensions, Extensions is null);
    }

    public static bool TryRead(ref PayloadReader reader, out ErrorMessage message)
    {
        message = default;
        if (!reader.TryString(out var code) || !reader.TryU16(out var status) || !reader.TryString(out var detail)
            || !reader.TryI64(out var retry) || !reader.TryNullableBytes(out var extensions))
        {
            return false;
        }
        message = new ErrorMessage(code, status, detail, retry, extensions);
        return true;
    }
}

/// <summary>OK (0x92): empty.</summary>
public readonly record struct OkMessage : INativeMessage<OkMessage>
{
    public static FrameType Type => FrameType.Ok;

    public int PayloadSize => 0;

    public void WritePayload(ref PayloadWriter writer)
    {
    }

    public static bool TryRead(ref PayloadReader reader, out OkMessage message)
    {
        message = default;
        return true;
    }
}

/// <summary>PING (0x02): any bytes, echoed by PONG (0x82, <see cref="PongMessage"/>).</summary>
public readonly record struct PingMessage(byte[] Data) : INativeMessage<PingMessage>
{
    public static FrameType Type => FrameType.Ping;

    public int PayloadSize => Data.Length;

    public void WritePayload(ref PayloadWriter writer) => writer.Raw(Data);

    public static bool TryRead(ref PayloadReader reader, out PingMessage message)
    {
        message = new PingMessage(reader.ReadRest());
        return true;
    }
}

/// <summary>PONG (0x82): PING's bytes.</summary>
public readonly record struct PongMessage(byte[] Data) : INativeMessage<PongMessage>
{
    public static FrameType Type => FrameType.Pong;

    public int PayloadSize => Data.Length;

    public void WritePayload(ref PayloadWriter writer) => writer.Raw(Data);

    public static bool TryRead(ref PayloadReader reader, out PongMessage message)
    {
        message = new PongMessage(reader.ReadRest());
        return true;
    }
}

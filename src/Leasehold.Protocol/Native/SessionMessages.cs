namespace Leasehold.Protocol.Native;

/// <summary>SESSION_OPEN (0x20): <see cref="TtlMs"/> -1 for the default (30 s).</summary>
public readonly record struct SessionOpenMessage(long TtlMs, string? Owner, SessionFlags Flags) : INativeMessage<SessionOpenMessage>
{
    public static FrameType Type => FrameType.SessionOpen;

    public int PayloadSize => 8 + PayloadWriter.SizeOf(Owner) + 1;

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.I64(TtlMs);
        writer.String(Owner);
        writer.U8((byte)Flags);
    }

    public static bool TryRead(ref PayloadReader reader, out SessionOpenMessage message)
    {
        message = default;
        if (!reader.TryI64(out var ttl) || !reader.TryNullableString(out var owner) || !reader.TryU8(out var flags)
            || (flags & ~(byte)SessionFlags.Bound) != 0)
        {
            return false;
        }
        message = new SessionOpenMessage(ttl, owner, (SessionFlags)flags);
        return true;
    }
}

/// <summary>SESSION_KEEPALIVE (0x21).</summary>
public readonly record struct SessionKeepAliveMessage(ulong SessionId, string Token) : INativeMessage<SessionKeepAliveMessage>
{
    public static FrameType Type => FrameType.SessionKeepAlive;

    public int PayloadSize => 8 + PayloadWriter.SizeOf(Token);

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.U64(SessionId);
        writer.String(Token);
    }

    public static bool TryRead(ref PayloadReader reader, out SessionKeepAliveMessage message)
    {
        message = default;
        if (!reader.TryU64(out var id) || !reader.TryString(out var token))
        {
            return false;
        }
        message = new SessionKeepAliveMessage(id, token);
        return true;
    }
}

/// <summary>SESSION_CLOSE (0x22).</summary>
public readonly record struct SessionCloseMessage(ulong SessionId, string Token) : INativeMessage<SessionCloseMessage>
{
    public static FrameType Type => FrameType.SessionClose;

    public int PayloadSize => 8 + PayloadWriter.SizeOf(Token);

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.U64(SessionId);
        writer.String(Token);
    }

    public static bool TryRead(ref PayloadReader reader, out SessionCloseMessage message)
    {
        message = default;
        if (!reader.TryU64(out var id) || !reader.TryString(out var token))
        {
            return false;
        }
        message = new SessionCloseMessage(id, token);
        return true;
    }
}

/// <summary>SESSION (0xA0): <see cref="Token"/> only in the answer to SESSION_OPEN.</summary>
public readonly record struct SessionMessage(ulong Id, string? Token, string? Owner, string? Principal, long TtlMs, long ExpiresAt, int Leases)
    : INativeMessage<SessionMessage>
{
    public static FrameType Type => FrameType.Session;

    public int PayloadSize => 8 + PayloadWriter.SizeOf(Token) + PayloadWriter.SizeOf(Owner) + PayloadWriter.SizeOf(Principal) + 8 + 8 + 4;

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.U64(Id);
        writer.String(Token);
        writer.String(Owner);
        writer.String(Principal);
        writer.I64(TtlMs);
        writer.I64(ExpiresAt);
        writer.I32(Leases);
    }

    public static bool TryRead(ref PayloadReader reader, out SessionMessage message)
    {
        message = default;
        if (!reader.TryU64(out var id) || !reader.TryNullableString(out var token) || !reader.TryNullableString(out var owner)
            || !reader.TryNullableString(out var principal) || !reader.TryI64(out var ttl) || !reader.TryI64(out var expires)
            || !reader.TryI32(out var leases))
        {
            return false;
        }
        message = new SessionMessage(id, token, owner, principal, ttl, expires, leases);
        return true;
    }
}

/// <summary>SESSION_ENDED (0xE1), a push: a session opened on this connection ended other than by its own SESSION_CLOSE.</summary>
public readonly record struct SessionEndedMessage(ulong SessionId, string Reason) : INativeMessage<SessionEndedMessage>
{
    public static FrameType Type => FrameType.SessionEnded;

    public int PayloadSize => 8 + PayloadWriter.SizeOf(Reason);

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.U64(SessionId);
        writer.String(Reason);
    }

    public static bool TryRead(ref PayloadReader reader, out SessionEndedMessage message)
    {
        message = default;
        if (!reader.TryU64(out var id) || !reader.TryString(out var reason))
        {
            return false;
        }
        message = new SessionEndedMessage(id, reason);
        return true;
    }
}

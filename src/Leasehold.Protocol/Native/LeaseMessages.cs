namespace Leasehold.Protocol.Native;

/// <summary>One requirement group of a pool ACQUIRE: <c>pool:str | count:i32 | require:bytes?</c> (JSON, as HTTP's <c>require</c>).</summary>
public readonly record struct PoolGroupSpec(string Pool, int Count, byte[]? Require);

/// <summary>ACQUIRE (0x10). Durations in milliseconds; -1 for none (ttl), -1 for none (limit), 0 for no session.</summary>
public readonly record struct AcquireMessage : INativeMessage<AcquireMessage>
{
    private const AcquireFlags Known = AcquireFlags.Shared | AcquireFlags.LockParents | AcquireFlags.LockChildren | AcquireFlags.Reuse;

    public AcquireFlags Flags { get; init; }

    public long TtlMs { get; init; }

    public long WaitMs { get; init; }

    public ulong SessionId { get; init; }

    public int Limit { get; init; }

    public string? Owner { get; init; }

    public string? IdempotencyKey { get; init; }

    public string[] Paths { get; init; }

    public PoolGroupSpec[] Groups { get; init; }

    public AcquireMessage()
    {
        Flags = AcquireFlags.LockParents | AcquireFlags.LockChildren;
        TtlMs = -1;
        Limit = -1;
        Paths = [];
        Groups = [];
    }

    public static FrameType Type => FrameType.Acquire;

    public int PayloadSize
    {
        get
        {
            var size = 1 + 8 + 8 + 8 + 4 + PayloadWriter.SizeOf(Owner) + PayloadWriter.SizeOf(IdempotencyKey) + 2 + 2;
            foreach (var path in Paths)
            {
                size += PayloadWriter.SizeOf(path);
            }
            foreach (var group in Groups)
            {
                size += PayloadWriter.SizeOf(group.Pool) + 4 + PayloadWriter.SizeOf(group.Require);
            }
            return size;
        }
    }

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.U8((byte)Flags);
        writer.I64(TtlMs);
        writer.I64(WaitMs);
        writer.U64(SessionId);
        writer.I32(Limit);
        writer.String(Owner);
        writer.String(IdempotencyKey);
        writer.U16(checked((ushort)Paths.Length));
        foreach (var path in Paths)
        {
            writer.String(path);
        }
        writer.U16(checked((ushort)Groups.Length));
        foreach (var group in Groups)
        {
            writer.String(group.Pool);
            writer.I32(group.Count);
            writer.Bytes(group.Require, group.Require is null);
        }
    }

    public static bool TryRead(ref PayloadReader reader, out AcquireMessage message)
    {
        message = default;
        if (!reader.TryU8(out var flags) || (flags & ~(byte)Known) != 0
            || !reader.TryI64(out var ttl) || !reader.TryI64(out var wait) || !reader.TryU64(out var session)
            || !reader.TryI32(out var limit) || !reader.TryNullableString(out var owner) || !reader.TryNullableString(out var key)
            || !reader.TryCount(2, out var pathCount))
        {
            return false;
        }
        var paths = pathCount == 0 ? [] : new string[pathCount];
        for (var i = 0; i < paths.Length; i++)
        {
            if (!reader.TryString(out paths[i]))
            {
                return false;
            }
        }
        if (!reader.TryCount(2 + 4 + 4, out var groupCount))
        {
            return false;
        }
        var groups = groupCount == 0 ? [] : new PoolGroupSpec[groupCount];
        for (var i = 0; i < groups.Length; i++)
        {
            if (!reader.TryString(out var pool) || !reader.TryI32(out var count) || !reader.TryNullableBytes(out var require))
            {
                return false;
            }
            groups[i] = new PoolGroupSpec(pool, count, require);
        }
        message = new AcquireMessage
        {
            Flags = (AcquireFlags)flags,
            TtlMs = ttl,
            WaitMs = wait,
            SessionId = session,
            Limit = limit,
            Owner = owner,
            IdempotencyKey = key,
            Paths = paths,
            Groups = groups,
        };
        return true;
    }
}

/// <summary>CANCEL (0x11): ends the wait of the ACQUIRE with id <see cref="Target"/>.</summary>
public readonly record struct CancelMessage(uint Target) : INativeMessage<CancelMessage>
{
    public static FrameType Type => FrameType.Cancel;

    public int PayloadSize => 4;

    public void WritePayload(ref PayloadWriter writer) => writer.U32(Target);

    public static bool TryRead(ref PayloadReader reader, out CancelMessage message)
    {
        var ok = reader.TryU32(out var target);
        message = new CancelMessage(target);
        return ok;
    }
}

/// <summary>RELEASE (0x12).</summary>
public readonly record struct ReleaseMessage(ulong LeaseId, string Token) : INativeMessage<ReleaseMessage>
{
    public static FrameType Type => FrameType.Release;

    public int PayloadSize => 8 + PayloadWriter.SizeOf(Token);

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.U64(LeaseId);
        writer.String(Token);
    }

    public static bool TryRead(ref PayloadReader reader, out ReleaseMessage message)
    {
        message = default;
        if (!reader.TryU64(out var id) || !reader.TryString(out var token))
        {
            return false;
        }
        message = new ReleaseMessage(id, token);
        return true;
    }
}

/// <summary>RENEW (0x13): <see cref="TtlMs"/> -1 keeps the lease's ttl.</summary>
public readonly record struct RenewMessage(ulong LeaseId, string Token, long TtlMs) : INativeMessage<RenewMessage>
{
    public static FrameType Type => FrameType.Renew;

    public int PayloadSize => 8 + PayloadWriter.SizeOf(Token) + 8;

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.U64(LeaseId);
        writer.String(Token);
        writer.I64(TtlMs);
    }

    public static bool TryRead(ref PayloadReader reader, out RenewMessage message)
    {
        message = default;
        if (!reader.TryU64(out var id) || !reader.TryString(out var token) || !reader.TryI64(out var ttl))
        {
            return false;
        }
        message = new RenewMessage(id, token, ttl);
        return true;
    }
}

/// <summary>GET_LEASE (0x14).</summary>
public readonly record struct GetLeaseMessage(ulong LeaseId) : INativeMessage<GetLeaseMessage>
{
    public static FrameType Type => FrameType.GetLease;

    public int PayloadSize => 8;

    public void WritePayload(ref PayloadWriter writer) => writer.U64(LeaseId);

    public static bool TryRead(ref PayloadReader reader, out GetLeaseMessage message)
    {
        var ok = reader.TryU64(out var id);
        message = new GetLeaseMessage(id);
        return ok;
    }
}

/// <summary>LEASE (0x90). -1 for no limit, no ttl, no expiry; 0 for no session; <see cref="Token"/> only when granted.</summary>
public readonly record struct LeaseMessage : INativeMessage<LeaseMessage>
{
    private const LeaseFlags Known = LeaseFlags.Shared | LeaseFlags.LockParents | LeaseFlags.LockChildren;

    public ulong Id { get; init; }

    public ulong Fence { get; init; }

    public string? Token { get; init; }

    public string? Owner { get; init; }

    public string? Principal { get; init; }

    public LeaseFlags Flags { get; init; }

    public string[] Paths { get; init; }

    public int Limit { get; init; }

    public long TtlMs { get; init; }

    public long AcquiredAt { get; init; }

    public long ExpiresAt { get; init; }

    public ulong SessionId { get; init; }

    public long WaitedMs { get; init; }

    /// <summary>Pool leases: HTTP's <c>resources</c> array as UTF-8 JSON.</summary>
    public byte[]? Resources { get; init; }

    public LeaseMessage()
    {
        Paths = [];
        Limit = -1;
        TtlMs = -1;
        ExpiresAt = -1;
    }

    public static FrameType Type => FrameType.Lease;

    public int PayloadSize
    {
        get
        {
            var size = 8 + 8 + PayloadWriter.SizeOf(Token) + PayloadWriter.SizeOf(Owner) + PayloadWriter.SizeOf(Principal) + 1 + 2
                + 4 + 8 + 8 + 8 + 8 + 8 + PayloadWriter.SizeOf(Resources);
            foreach (var path in Paths)
            {
                size += PayloadWriter.SizeOf(path);
            }
            return size;
        }
    }

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.U64(Id);
        writer.U64(Fence);
        writer.String(Token);
        writer.String(Owner);
        writer.String(Principal);
        writer.U8((byte)Flags);
        writer.U16(checked((ushort)Paths.Length));
        foreach (var path in Paths)
        {
            writer.String(path);
        }
        writer.I32(Limit);
        writer.I64(TtlMs);
        writer.I64(AcquiredAt);
        writer.I64(ExpiresAt);
        writer.U64(SessionId);
        writer.I64(WaitedMs);
        writer.Bytes(Resources, Resources is null);
    }

    public static bool TryRead(ref PayloadReader reader, out LeaseMessage message)
    {
        message = default;
        if (!reader.TryU64(out var id) || !reader.TryU64(out var fence) || !reader.TryNullableString(out var token)
            || !reader.TryNullableString(out var owner) || !reader.TryNullableString(out var principal)
            || !reader.TryU8(out var flags) || (flags & ~(byte)Known) != 0 || !reader.TryCount(2, out var pathCount))
        {
            return false;
        }
        var paths = pathCount == 0 ? [] : new string[pathCount];
        for (var i = 0; i < paths.Length; i++)
        {
            if (!reader.TryString(out paths[i]))
            {
                return false;
            }
        }
        if (!reader.TryI32(out var limit) || !reader.TryI64(out var ttl) || !reader.TryI64(out var acquired) || !reader.TryI64(out var expires)
            || !reader.TryU64(out var session) || !reader.TryI64(out var waited) || !reader.TryNullableBytes(out var resources))
        {
            return false;
        }
        message = new LeaseMessage
        {
            Id = id,
            Fence = fence,
            Token = token,
            Owner = owner,
            Principal = principal,
            Flags = (LeaseFlags)flags,
            Paths = paths,
            Limit = limit,
            TtlMs = ttl,
            AcquiredAt = acquired,
            ExpiresAt = expires,
            SessionId = session,
            WaitedMs = waited,
            Resources = resources,
        };
        return true;
    }
}

/// <summary>LEASE_ENDED (0xE0), a push: a lease granted on this connection ended other than by its own RELEASE.</summary>
public readonly record struct LeaseEndedMessage(ulong LeaseId, string Reason) : INativeMessage<LeaseEndedMessage>
{
    public static FrameType Type => FrameType.LeaseEnded;

    public int PayloadSize => 8 + PayloadWriter.SizeOf(Reason);

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.U64(LeaseId);
        writer.String(Reason);
    }

    public static bool TryRead(ref PayloadReader reader, out LeaseEndedMessage message)
    {
        message = default;
        if (!reader.TryU64(out var id) || !reader.TryString(out var reason))
        {
            return false;
        }
        message = new LeaseEndedMessage(id, reason);
        return true;
    }
}

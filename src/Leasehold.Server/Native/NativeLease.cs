using System.Globalization;
using System.Text.Json;
using Leasehold.Core;
using Leasehold.Protocol;
using Leasehold.Protocol.Native;
using Leasehold.Server.Wire;

namespace Leasehold.Server.Native;

/// <summary>
/// A LEASE frame (0x90) taken straight from the engine's <see cref="Lease"/> on the writer (the lease may change
/// after the batch, so its fields are copied there): the same bytes as <see cref="LeaseMessage"/>, without a DTO,
/// without formatting times or durations, and with the token written as hex digits straight into the frame.
/// </summary>
internal readonly struct NativeLease : INativeMessage<NativeLease>
{
    private const int TokenDigits = 32;

    public long Id { get; init; }

    public long Fence { get; init; }

    /// <summary>Whether the frame carries <see cref="Token"/> (only the answer to the ACQUIRE that granted it).</summary>
    public bool HasToken { get; init; }

    public UInt128 Token { get; init; }

    public string? Owner { get; init; }

    public string? Principal { get; init; }

    public LeaseFlags Flags { get; init; }

    public ResourcePath[] Paths { get; init; }

    public int Limit { get; init; }

    public long TtlMs { get; init; }

    public long AcquiredAt { get; init; }

    public long ExpiresAt { get; init; }

    public long SessionId { get; init; }

    public long WaitedMs { get; init; }

    public byte[]? Resources { get; init; }

    /// <summary>On the writer: the lease as it is now, with <paramref name="token"/> when the answer shows it.</summary>
    public static NativeLease From(Lease lease, LockEngine engine, UInt128? token) => new()
    {
        Id = lease.Id,
        Fence = lease.Fence,
        HasToken = token.HasValue,
        Token = token.GetValueOrDefault(),
        Owner = lease.Owner,
        Principal = lease.Principal,
        Flags = (lease.Mode == LockMode.Shared ? LeaseFlags.Shared : LeaseFlags.None)
            | (lease.LockParents ? LeaseFlags.LockParents : LeaseFlags.None)
            | (lease.LockChildren ? LeaseFlags.LockChildren : LeaseFlags.None),
        Paths = lease.Paths,
        Limit = lease.Mode == LockMode.Exclusive ? lease.Limit : -1,
        TtlMs = lease.TtlMs > 0 ? lease.TtlMs : -1,
        AcquiredAt = lease.AcquiredAt,
        ExpiresAt = lease.ExpiresAt == long.MaxValue ? -1 : lease.ExpiresAt,
        SessionId = lease.SessionId,
        WaitedMs = lease.WaitedMs,
        // Pool leases only (rare): HTTP's resources array, as HTTP writes it.
        Resources = lease.Groups is null ? null
            : JsonSerializer.SerializeToUtf8Bytes(Dtos.ToDto(lease, engine).Resources, ProtocolJsonContext.Default.ChosenResourceDtoArray),
    };

    public static FrameType Type => FrameType.Lease;

    public int PayloadSize
    {
        get
        {
            var size = 8 + 8 + (HasToken ? 2 + TokenDigits : 2) + PayloadWriter.SizeOf(Owner) + PayloadWriter.SizeOf(Principal) + 1 + 2
                + 4 + 8 + 8 + 8 + 8 + 8 + PayloadWriter.SizeOf(Resources);
            foreach (var path in Paths)
            {
                size += PayloadWriter.SizeOf(path.Value);
            }
            return size;
        }
    }

    public void WritePayload(ref PayloadWriter writer)
    {
        writer.U64((ulong)Id);
        writer.U64((ulong)Fence);
        if (HasToken)
        {
            Span<byte> hex = stackalloc byte[TokenDigits];
            Token.TryFormat(hex, out _, "x32", CultureInfo.InvariantCulture);
            writer.U16(TokenDigits);
            writer.Raw(hex);
        }
        else
        {
            writer.String(null);
        }
        writer.String(Owner);
        writer.String(Principal);
        writer.U8((byte)Flags);
        writer.U16(checked((ushort)Paths.Length));
        foreach (var path in Paths)
        {
            writer.String(path.Value);
        }
        writer.I32(Limit);
        writer.I64(TtlMs);
        writer.I64(AcquiredAt);
        writer.I64(ExpiresAt);
        writer.U64((ulong)SessionId);
        writer.I64(WaitedMs);
        writer.Bytes(Resources, Resources is null);
    }

    /// <summary>Never read here: a client reads a LEASE as <see cref="LeaseMessage"/>.</summary>
    public static bool TryRead(ref PayloadReader reader, out NativeLease message)
    {
        message = default;
        return false;
    }
}

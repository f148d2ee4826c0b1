using System.Buffers;
using Leasehold.Core;

namespace Leasehold.Storage;

/// <summary>
/// The binary form of each command in the log. Tags and field order are the on-disk format (version
/// <see cref="LogFormat.Version"/>), pinned by tests: add new tags, never change an old one.
/// </summary>
public static class CommandCodec
{
    public enum Tag : byte
    {
        AcquireLease = 1,
        RenewLease = 2,
        ReleaseLease = 3,
        OpenSession = 4,
        KeepAliveSession = 5,
        CloseSession = 6,
        CancelWait = 7,
        Tick = 8,
        DropWaiters = 9,
        Recover = 10,
    }

    public static void Write(IBufferWriter<byte> w, Command command)
    {
        switch (command)
        {
            case AcquireLease c:
                Head(w, Tag.AcquireLease, c);
                BinaryOut.Int32(w, c.Paths.Length);
                foreach (var path in c.Paths)
                {
                    BinaryOut.String(w, path.Value);
                }
                BinaryOut.Byte(w, (byte)c.Mode);
                BinaryOut.Int32(w, c.Limit ?? 0);
                BinaryOut.Int64(w, c.TtlMs);
                BinaryOut.Int64(w, c.WaitMs);
                BinaryOut.Int64(w, c.SessionId);
                BinaryOut.Bool(w, c.LockParents);
                BinaryOut.Bool(w, c.LockChildren);
                BinaryOut.String(w, c.Owner);
                BinaryOut.UInt128(w, c.Token);
                break;
            case RenewLease c:
                Head(w, Tag.RenewLease, c);
                BinaryOut.Int64(w, c.LeaseId);
                BinaryOut.UInt128(w, c.Token);
                BinaryOut.Int64(w, c.TtlMs);
                break;
            case ReleaseLease c:
                Head(w, Tag.ReleaseLease, c);
                BinaryOut.Int64(w, c.LeaseId);
                BinaryOut.UInt128(w, c.Token);
                break;
            case OpenSession c:
                Head(w, Tag.OpenSession, c);
                BinaryOut.Int64(w, c.TtlMs);
                BinaryOut.String(w, c.Owner);
                BinaryOut.UInt128(w, c.Token);
                break;
            case KeepAliveSession c:
                Head(w, Tag.KeepAliveSession, c);
                BinaryOut.Int64(w, c.SessionId);
                BinaryOut.UInt128(w, c.Token);
                break;
            case CloseSession c:
                Head(w, Tag.CloseSession, c);
                BinaryOut.Int64(w, c.SessionId);
                BinaryOut.UInt128(w, c.Token);
                break;
            case CancelWait c:
                Head(w, Tag.CancelWait, c);
                BinaryOut.Int64(w, c.WaiterId);
                break;
            case Tick c:
                Head(w, Tag.Tick, c);
                break;
            case DropWaiters c:
                Head(w, Tag.DropWaiters, c);
                break;
            case Recover c:
                Head(w, Tag.Recover, c);
                BinaryOut.Int64(w, c.SessionGraceMs);
                break;
            default:
                throw new ArgumentException($"no log form for {command.GetType().Name}", nameof(command));
        }
    }

    private static void Head(IBufferWriter<byte> w, Tag tag, Command command)
    {
        BinaryOut.Byte(w, (byte)tag);
        BinaryOut.Int64(w, command.Now);
    }

    /// <summary>Decodes one command; a malformed payload throws <see cref="FormatException"/>.</summary>
    public static Command Read(ReadOnlySpan<byte> payload)
    {
        var r = new BinaryIn(payload);
        var tag = (Tag)r.Byte();
        var now = r.Int64();
        Command command = tag switch
        {
            Tag.AcquireLease => ReadAcquire(ref r, now),
            Tag.RenewLease => new RenewLease { Now = now, LeaseId = r.Int64(), Token = r.UInt128(), TtlMs = r.Int64() },
            Tag.ReleaseLease => new ReleaseLease { Now = now, LeaseId = r.Int64(), Token = r.UInt128() },
            Tag.OpenSession => new OpenSession { Now = now, TtlMs = r.Int64(), Owner = r.String(), Token = r.UInt128() },
            Tag.KeepAliveSession => new KeepAliveSession { Now = now, SessionId = r.Int64(), Token = r.UInt128() },
            Tag.CloseSession => new CloseSession { Now = now, SessionId = r.Int64(), Token = r.UInt128() },
            Tag.CancelWait => new CancelWait { Now = now, WaiterId = r.Int64() },
            Tag.Tick => new Tick { Now = now },
            Tag.DropWaiters => new DropWaiters { Now = now },
            Tag.Recover => new Recover { Now = now, SessionGraceMs = r.Int64() },
            _ => throw new FormatException($"unknown command tag {(byte)tag}"),
        };
        if (r.Remaining != 0)
        {
            throw new FormatException($"{r.Remaining} bytes left after a {tag} command");
        }
        return command;
    }

    private static AcquireLease ReadAcquire(ref BinaryIn r, long now)
    {
        var count = r.Int32();
        if (count < 1 || count > 4096)
        {
            throw new FormatException($"{count} paths in one acquire");
        }
        var paths = new ResourcePath[count];
        for (var i = 0; i < count; i++)
        {
            paths[i] = Codec.Path(r.String());
        }
        var mode = r.Byte();
        var limit = r.Int32();
        return new AcquireLease
        {
            Now = now,
            Paths = paths,
            Mode = Codec.Mode(mode),
            Limit = limit == 0 ? null : limit,
            TtlMs = r.Int64(),
            WaitMs = r.Int64(),
            SessionId = r.Int64(),
            LockParents = r.Bool(),
            LockChildren = r.Bool(),
            Owner = r.String(),
            Token = r.UInt128(),
        };
    }
}

internal static class Codec
{
    public static ResourcePath Path(string? text)
        => ResourcePath.TryParse(text, out var path, out var error) ? path : throw new FormatException($"bad path '{text}': {error}");

    public static LockMode Mode(byte value) => value <= (byte)LockMode.Shared
        ? (LockMode)value
        : throw new FormatException($"{value} is not a lock mode");
}

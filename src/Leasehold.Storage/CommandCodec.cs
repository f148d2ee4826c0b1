using System.Buffers;
using Leasehold.Core;
using Leasehold.Core.Pools;

namespace Leasehold.Storage;

/// <summary>
/// The binary form of each command in the log. Tags and field order are the on-disk format (version
/// <see cref="LogFormat.Version"/>), pinned by tests: add new tags, never change an old one.
/// </summary>
public static partial class CommandCodec
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
        AcquireFromPools = 11,
        DeclareResource = 12,
        RemoveResource = 13,
        RevokeLease = 14,
        EndSession = 15,
        DrainPrefix = 16,
        UndrainPrefix = 17,
        TakeOver = 18,
    }

    /// <summary>Encodes one command in the current log version.</summary>
    public static void Write(IBufferWriter<byte> w, Command command) => Write(w, command, LogFormat.Version);

    /// <summary>
    /// Encodes one command as log <paramref name="version"/> lays it out: before version 3 without principals
    /// (and without the administrators' commands, which did not exist). Older layouts are written only by tests
    /// that build old data directories.
    /// </summary>
    public static void Write(IBufferWriter<byte> w, Command command, int version)
    {
        var principals = version >= LogFormat.FirstVersionWithPrincipals;
        if (!principals && command is RevokeLease or EndSession or DrainPrefix or UndrainPrefix or TakeOver)
        {
            throw new ArgumentException($"log version {version} has no {command.GetType().Name}", nameof(command));
        }
        switch (command)
        {
            case AcquireLease { Groups: { } groups } c:
                Head(w, Tag.AcquireFromPools, c);
                WriteAcquireFields(w, c, principals);
                BinaryOut.Int32(w, groups.Length);
                foreach (var group in groups)
                {
                    BinaryOut.String(w, group.Pool.Value);
                    BinaryOut.String(w, group.Require);
                    BinaryOut.Int32(w, group.Count);
                }
                BinaryOut.Bool(w, c.Reuse);
                break;
            case AcquireLease c:
                Head(w, Tag.AcquireLease, c);
                WriteAcquireFields(w, c, principals);
                break;
            case DeclareResource c:
                Head(w, Tag.DeclareResource, c);
                BinaryOut.String(w, c.Path.Value);
                BinaryOut.String(w, c.Attributes);
                break;
            case RemoveResource c:
                Head(w, Tag.RemoveResource, c);
                BinaryOut.String(w, c.Path.Value);
                break;
            case RevokeLease c:
                Head(w, Tag.RevokeLease, c);
                BinaryOut.Int64(w, c.LeaseId);
                BinaryOut.String(w, c.Actor);
                break;
            case EndSession c:
                Head(w, Tag.EndSession, c);
                BinaryOut.Int64(w, c.SessionId);
                BinaryOut.String(w, c.Actor);
                break;
            case DrainPrefix c:
                Head(w, Tag.DrainPrefix, c);
                BinaryOut.String(w, c.Path.Value);
                BinaryOut.String(w, c.Actor);
                break;
            case UndrainPrefix c:
                Head(w, Tag.UndrainPrefix, c);
                BinaryOut.String(w, c.Path.Value);
                BinaryOut.String(w, c.Actor);
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
                if (principals)
                {
                    BinaryOut.String(w, c.Principal);
                }
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
            case TakeOver c:
                Head(w, Tag.TakeOver, c);
                BinaryOut.Int64(w, c.SessionGraceMs);
                break;
            default:
                throw new ArgumentException($"no log form for {command.GetType().Name}", nameof(command));
        }
        if (command.Choices is { } choices)
        {
            WriteChoices(w, choices);
        }
    }

    private static void WriteAcquireFields(IBufferWriter<byte> w, AcquireLease c, bool principals)
    {
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
        if (principals)
        {
            BinaryOut.String(w, c.Principal);
        }
    }

    private static void Head(IBufferWriter<byte> w, Tag tag, Command command)
    {
        BinaryOut.Byte(w, (byte)tag);
        BinaryOut.Int64(w, command.Now);
    }

    /// <summary>Decodes one command of a segment of log <paramref name="version"/>; a malformed payload throws <see cref="FormatException"/>.</summary>
    public static Command Read(ReadOnlySpan<byte> payload, int version = LogFormat.Version)
    {
        var r = new BinaryIn(payload);
        var tag = (Tag)r.Byte();
        var now = r.Int64();
        var principals = version >= LogFormat.FirstVersionWithPrincipals;
        Command command = tag switch
        {
            Tag.AcquireLease => ReadAcquire(ref r, now, minPaths: 1, principals),
            Tag.AcquireFromPools => ReadAcquireFromPools(ref r, now, principals),
            Tag.DeclareResource => new DeclareResource { Now = now, Path = Codec.Path(r.String()), Attributes = r.String() ?? "{}" },
            Tag.RemoveResource => new RemoveResource { Now = now, Path = Codec.Path(r.String()) },
            Tag.RenewLease => new RenewLease { Now = now, LeaseId = r.Int64(), Token = r.UInt128(), TtlMs = r.Int64() },
            Tag.ReleaseLease => new ReleaseLease { Now = now, LeaseId = r.Int64(), Token = r.UInt128() },
            Tag.OpenSession => new OpenSession { Now = now, TtlMs = r.Int64(), Owner = r.String(), Token = r.UInt128(), Principal = principals ? r.String() : null },
            Tag.KeepAliveSession => new KeepAliveSession { Now = now, SessionId = r.Int64(), Token = r.UInt128() },
            Tag.CloseSession => new CloseSession { Now = now, SessionId = r.Int64(), Token = r.UInt128() },
            Tag.CancelWait => new CancelWait { Now = now, WaiterId = r.Int64() },
            Tag.Tick => new Tick { Now = now },
            Tag.DropWaiters => new DropWaiters { Now = now },
            Tag.Recover => new Recover { Now = now, SessionGraceMs = r.Int64() },
            Tag.TakeOver when principals => new TakeOver { Now = now, SessionGraceMs = r.Int64() },
            Tag.RevokeLease when principals => new RevokeLease { Now = now, LeaseId = r.Int64(), Actor = r.String() },
            Tag.EndSession when principals => new EndSession { Now = now, SessionId = r.Int64(), Actor = r.String() },
            Tag.DrainPrefix when principals => new DrainPrefix { Now = now, Path = Codec.Path(r.String()), Actor = r.String() },
            Tag.UndrainPrefix when principals => new UndrainPrefix { Now = now, Path = Codec.Path(r.String()), Actor = r.String() },
            _ => throw new FormatException($"unknown command tag {(byte)tag}"),
        };
        if (r.Remaining >= 4)
        {
            // The optional trailer: the pool choices made when the command was applied.
            command = command with { Choices = ReadChoices(ref r) };
        }
        if (r.Remaining != 0)
        {
            throw new FormatException($"{r.Remaining} bytes left after a {tag} command");
        }
        return command;
    }

    private static AcquireLease ReadAcquireFromPools(ref BinaryIn r, long now, bool principals)
    {
        var acquire = ReadAcquire(ref r, now, minPaths: 0, principals);
        var count = r.Int32();
        if (count < 1 || count > 1024)
        {
            throw new FormatException($"{count} groups in one acquire");
        }
        var groups = new PoolGroup[count];
        for (var i = 0; i < count; i++)
        {
            groups[i] = new PoolGroup(Codec.Path(r.String()), r.String() ?? "{}", r.Int32());
        }
        return acquire with { Groups = groups, Reuse = r.Bool() };
    }

    private static AcquireLease ReadAcquire(ref BinaryIn r, long now, int minPaths, bool principals)
    {
        var count = r.Int32();
        if (count < minPaths || count > 4096)
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
            Principal = principals ? r.String() : null,
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

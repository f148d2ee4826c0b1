using System.Buffers;
using System.Buffers.Binary;
using Leasehold.Core;

namespace Leasehold.Storage;

/// <summary>
/// The payload of one Raft log entry in a cluster (docs/cluster.md): a magic, the entry's kind, the log format
/// version of its records, then the records themselves, framed and checksummed exactly as in a single server's
/// log segment (<see cref="LogFormat"/>). A commands entry is one or more writer batches of the leader; a
/// leader-start entry carries nothing and only marks the moment a new leader may start deciding.
/// </summary>
public static class ClusterEntry
{
    public const int HeaderSize = 8;

    private static ReadOnlySpan<byte> Magic => "LHRE"u8;

    public enum Kind : byte
    {
        Commands = 1,
        LeaderStart = 2,
    }

    /// <summary>A leader-start entry.</summary>
    public static byte[] LeaderStart()
    {
        var bytes = new byte[HeaderSize];
        WriteHeader(bytes, Kind.LeaderStart);
        return bytes;
    }

    /// <summary>A commands entry holding the records of <paramref name="buffers"/>, in order.</summary>
    public static byte[] Commands(IEnumerable<LogBuffer> buffers)
    {
        var length = HeaderSize;
        foreach (var buffer in buffers)
        {
            length += buffer.Length;
        }
        var bytes = new byte[length];
        WriteHeader(bytes, Kind.Commands);
        var at = HeaderSize;
        foreach (var buffer in buffers)
        {
            buffer.Written.CopyTo(bytes.AsSpan(at));
            at += buffer.Length;
        }
        return bytes;
    }

    private static void WriteHeader(Span<byte> header, Kind kind)
    {
        Magic.CopyTo(header);
        header[4] = (byte)kind;
        header[5] = (byte)LogFormat.Version;
        header[6] = 0;
        header[7] = 0;
    }

    /// <summary>
    /// Reads an entry: its kind, and each of its commands handed to <paramref name="apply"/> in order. An entry
    /// that is not ours (DotNext's own no-op entries are empty) is <see langword="null"/>; a damaged one throws
    /// <see cref="CorruptDataException"/>, since Raft has already checked what it carried.
    /// </summary>
    public static Kind? Read(ReadOnlySequence<byte> payload, Action<Command> apply)
    {
        if (payload.Length < HeaderSize)
        {
            return null;
        }
        ReadOnlySpan<byte> bytes = payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray();
        if (!bytes[..4].SequenceEqual(Magic))
        {
            return null;
        }
        var kind = (Kind)bytes[4];
        var version = bytes[5];
        if (version is < LogFormat.OldestVersion or > LogFormat.Version)
        {
            throw new CorruptDataException($"a cluster log entry of log version {version}, which this server does not read");
        }
        var rest = bytes[HeaderSize..];
        while (rest.Length > 0)
        {
            if (rest.Length < LogFormat.RecordHeaderSize)
            {
                throw new CorruptDataException("a cluster log entry ends inside a record header");
            }
            var length = BinaryPrimitives.ReadInt32LittleEndian(rest);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(rest[4..]);
            if (length < 0 || length > LogFormat.MaxPayload || rest.Length < LogFormat.RecordHeaderSize + length)
            {
                throw new CorruptDataException($"a cluster log entry holds a record of {length} bytes that does not fit");
            }
            var record = rest[..(LogFormat.RecordHeaderSize + length)];
            if (Crc32C.Compute(record[8..]) != crc)
            {
                throw new CorruptDataException("a record in a cluster log entry fails its checksum");
            }
            apply(CommandCodec.Read(record[LogFormat.RecordHeaderSize..], version));
            rest = rest[record.Length..];
        }
        return kind;
    }
}

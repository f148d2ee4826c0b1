using System.Buffers.Binary;
using Leasehold.Core;
using Leasehold.Fuzz.Harness;
using Leasehold.Storage;

namespace Leasehold.Fuzz.Targets;

/// <summary>
/// The write-ahead log reader: a damaged segment written to a data directory and replayed by
/// <see cref="LogReader.Replay"/> into an engine, as start-up does. Reading must succeed or throw
/// <see cref="CorruptDataException"/> (or the engine's <see cref="InvalidDataException"/> for a record it cannot
/// apply), and the undamaged segment must replay every record.
/// </summary>
public static class LogTarget
{
    public const string Name = "log";

    private static readonly Lazy<(byte[] Segment, int Records, byte[][] Snapshots)> Seeds = new(ValidStorage.Build);

    public static FuzzTarget<StorageInput> Create() => new(
        Name,
        "log segments from the real writer with bit flips, truncations, splices and length edits (checksums fixed or not), random records and bytes, replayed into an engine",
        StorageInput.Generator(fixChecksumPercent: 50),
        () => new Checker(),
        i => i.ToString());

    /// <summary>The bytes of <paramref name="input"/>, made from the valid segment.</summary>
    public static byte[] Bytes(StorageInput input)
    {
        var segment = Seeds.Value.Segment;
        switch (input.Shape)
        {
            case StorageShape.Damaged:
                var damaged = Generators.Bytes.Apply(segment, input.Edits);
                if (input.FixChecksums)
                {
                    FixChecksums(damaged);
                }
                return damaged;
            case StorageShape.RandomRecord:
                var (offset, index) = RecordStart(segment, input.Seed % (Seeds.Value.Records + 1));
                var record = new byte[LogFormat.RecordHeaderSize + input.Random.Length];
                BinaryPrimitives.WriteInt32LittleEndian(record, input.Random.Length);
                BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(8), index);
                input.Random.CopyTo(record, LogFormat.RecordHeaderSize);
                BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), Crc32C.Compute(record.AsSpan(8)));
                return [.. segment.AsSpan(0, offset), .. record];
            case StorageShape.RandomBody:
                var body = (byte[])[.. segment.AsSpan(0, LogFormat.SegmentHeaderSize), .. input.Random];
                if (input.FixChecksums)
                {
                    FixChecksums(body);
                }
                return body;
            default:
                return input.Random;
        }
    }

    /// <summary>Where record number <paramref name="n"/> (from 0) starts, and its index.</summary>
    private static (int Offset, long Index) RecordStart(byte[] segment, int n)
    {
        var offset = LogFormat.SegmentHeaderSize;
        var index = BinaryPrimitives.ReadInt64LittleEndian(segment.AsSpan(16));
        for (var i = 0; i < n && offset < segment.Length; i++)
        {
            offset += LogFormat.RecordHeaderSize + BinaryPrimitives.ReadInt32LittleEndian(segment.AsSpan(offset));
            index++;
        }
        return (offset, index);
    }

    /// <summary>Makes each record's checksum match its (damaged) index and payload, as far as the lengths let the records be found.</summary>
    private static void FixChecksums(byte[] data)
    {
        var offset = LogFormat.SegmentHeaderSize;
        while (data.Length - offset >= LogFormat.RecordHeaderSize)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(offset));
            if (length <= 0 || length > data.Length - offset - LogFormat.RecordHeaderSize)
            {
                return;
            }
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(offset + 4), Crc32C.Compute(data.AsSpan(offset + 8, 8 + length)));
            offset += LogFormat.RecordHeaderSize + length;
        }
    }

    /// <summary>A data directory of its own per worker, holding the one segment under test.</summary>
    internal sealed class Checker : IInputChecker<StorageInput>
    {
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "leasehold-fuzz-log-" + Guid.NewGuid().ToString("N"));
        private readonly string _file;

        public Checker()
        {
            Directory.CreateDirectory(_dir);
            var first = BinaryPrimitives.ReadInt64LittleEndian(Seeds.Value.Segment.AsSpan(16));
            _file = Path.Combine(_dir, LogFormat.SegmentName(first));
        }

        public void Check(StorageInput input)
        {
            var bytes = Bytes(input);
            File.WriteAllBytes(_file, bytes);
            var engine = new LockEngine();
            var applied = 0;
            try
            {
                LogReader.Replay(_dir, 0, (_, command) =>
                {
                    engine.Apply(command);
                    applied++;
                });
            }
            catch (Exception ex) when (ex is CorruptDataException or InvalidDataException)
            {
                return;
            }
            if (bytes.AsSpan().SequenceEqual(Seeds.Value.Segment) && applied != Seeds.Value.Records)
            {
                throw new FuzzCheckException($"the undamaged segment replayed {applied} of {Seeds.Value.Records} records");
            }
        }

        public void Dispose() => Directory.Delete(_dir, recursive: true);
    }
}

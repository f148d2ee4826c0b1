using System.Buffers.Binary;
using Leasehold.Core;
using Leasehold.Fuzz.Harness;
using Leasehold.Storage;

namespace Leasehold.Fuzz.Targets;

/// <summary>
/// The snapshot reader: damaged snapshots read by <see cref="SnapshotLoader.Load"/> (<see cref="SnapshotCodec.Read"/>, then
/// <see cref="LockEngine.Restore"/>), as start-up does. Reading must succeed or throw <see cref="CorruptDataException"/>
/// (or <see cref="InvalidDataException"/>), and every undamaged snapshot must restore.
/// </summary>
public static class SnapshotTarget
{
    public const string Name = "snapshot";

    private static readonly Lazy<byte[][]> Seeds = new(() => ValidStorage.Build().Snapshots);

    public static FuzzTarget<StorageInput> Create() => new(
        Name,
        "snapshots from the real writer with bit flips, truncations, splices and length and count edits (checksum mostly fixed), random bodies and bytes, read and restored into an engine",
        StorageInput.Generator(fixChecksumPercent: 80),
        () => new DelegateChecker<StorageInput>(Check),
        i => i.ToString());

    public static byte[] Bytes(StorageInput input)
    {
        var seed = Seeds.Value[input.Seed % Seeds.Value.Length];
        byte[] bytes = input.Shape switch
        {
            StorageShape.Damaged => Generators.Bytes.Apply(seed, input.Edits),
            // The header and the counters up to the first section, then random sections.
            StorageShape.RandomRecord => [.. seed.AsSpan(0, 56), .. input.Random, 0, 0, 0, 0],
            StorageShape.RandomBody => [.. seed.AsSpan(0, 24), .. input.Random, 0, 0, 0, 0],
            _ => input.Random,
        };
        if (input.FixChecksums && input.Shape != StorageShape.RandomBytes && bytes.Length >= 4)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)));
        }
        return bytes;
    }

    private static void Check(StorageInput input)
    {
        var bytes = Bytes(input);
        try
        {
            _ = SnapshotLoader.Load(LogFormat.SnapshotName(1), bytes, null);
        }
        catch (Exception ex) when (ex is CorruptDataException or InvalidDataException)
        {
            if (Seeds.Value.Any(s => s.AsSpan().SequenceEqual(bytes)))
            {
                throw new FuzzCheckException("an undamaged snapshot was refused: " + ex.Message);
            }
        }
    }
}

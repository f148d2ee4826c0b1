using CsCheck;
using Leasehold.Fuzz.Generators;

namespace Leasehold.Fuzz.Targets;

/// <summary>How a storage input is made from the valid seeds.</summary>
public enum StorageShape
{
    /// <summary>A valid file with <see cref="StorageInput.Edits"/> applied.</summary>
    Damaged,

    /// <summary>A valid file cut after some records, then one record of random payload with correct framing and checksum.</summary>
    RandomRecord,

    /// <summary>A valid header followed by random bytes.</summary>
    RandomBody,

    /// <summary>Random bytes alone.</summary>
    RandomBytes,
}

/// <summary>
/// One log or snapshot input: a shape, the seed file it starts from, the edits, and whether checksums are made
/// to match again afterwards, so that the damage reaches the decoder behind the checksum instead of stopping at it.
/// </summary>
public sealed record StorageInput(StorageShape Shape, int Seed, Edit[] Edits, bool FixChecksums, byte[] Random)
{
    public static Gen<StorageInput> Generator(int fixChecksumPercent) => Gen.Frequency(
        (12, Gen.Select(Gen.Int[0, 1_000], Bytes.Edits, Gen.Int[0, 99], (seed, edits, fix) => new StorageInput(StorageShape.Damaged, seed, edits, fix < fixChecksumPercent, []))),
        (4, Gen.Select(Gen.Int[0, 1_000], Gen.Byte.Array[1, 200], (seed, payload) => new StorageInput(StorageShape.RandomRecord, seed, [], true, payload))),
        (2, Gen.Select(Gen.Int[0, 1_000], Gen.Byte.Array[0, 300], Gen.Bool, (seed, body, fix) => new StorageInput(StorageShape.RandomBody, seed, [], fix, body))),
        (1, Gen.Byte.Array[0, 300].Select(bytes => new StorageInput(StorageShape.RandomBytes, 0, [], false, bytes))));

    public override string ToString() =>
        $"{Shape} of seed {Seed}, edits [{string.Join(", ", Edits.Select(e => e.ToString()))}], checksums {(FixChecksums ? "fixed" : "left")}, random {Bytes.Hex(Random, 64)}";
}

using System.Globalization;

namespace Leasehold.Storage;

/// <summary>
/// Names and fixed numbers of the on-disk format, described in docs/storage.md.
/// <para>A log segment is a 24-byte header (magic, version, reserved, index of its first record) followed
/// by records. A record is <c>[payload length: u32][crc32c of index and payload: u32][index: u64][payload]</c>,
/// little-endian; indexes rise by one from record to record, across segments.</para>
/// </summary>
public static class LogFormat
{
    /// <summary>
    /// The log's format version. The layout is the same in all; 2 means that every token field holds
    /// <see cref="Core.TokenHash"/> of the token, where version 1 held the token itself; 3 adds the
    /// principal after the token of acquire and open-session records, and the administrators' commands
    /// (revoke, end session, drain, undrain). All are read.
    /// </summary>
    public const int Version = 3;

    /// <summary>The first log version whose acquire and open-session records carry a principal.</summary>
    public const int FirstVersionWithPrincipals = 3;

    /// <summary>The oldest log version this server reads.</summary>
    public const int OldestVersion = 1;

    /// <summary>
    /// The snapshot's format version: 2 added declared resources, pool groups and history; 3 holds
    /// token hashes instead of tokens; 4 adds principals (sessions, leases, waiters, history), who ended a
    /// history entry, and the drained prefixes; 5 adds the event revision. Versions 1 to 4 are still read
    /// (as revision 0).
    /// </summary>
    public const int SnapshotVersion = 5;

    /// <summary>The first snapshot version with the event revision.</summary>
    public const int FirstSnapshotVersionWithRevision = 5;

    /// <summary>The first snapshot version with principals and drains.</summary>
    public const int FirstSnapshotVersionWithPrincipals = 4;

    /// <summary>The first snapshot version whose token fields are hashes.</summary>
    public const int FirstSnapshotVersionWithHashedTokens = 3;

    public const int SegmentHeaderSize = 24;

    public const int RecordHeaderSize = 16;

    /// <summary>A record payload larger than this is corruption, not data.</summary>
    public const int MaxPayload = 1 << 20;

    public static ReadOnlySpan<byte> SegmentMagic => "LHWAL\r\n\0"u8;

    public static ReadOnlySpan<byte> SnapshotMagic => "LHSNAP\r\n"u8;

    public const string LockFile = "leasehold.lock";

    /// <summary>What the directory must hold: see <see cref="Manifest"/>.</summary>
    public const string ManifestFile = "leasehold.manifest";

    /// <summary>Added to the name of a segment moved aside because the operator accepted losing it.</summary>
    public const string LostSuffix = ".lost";

    public static string SegmentName(long firstIndex) => $"wal-{firstIndex.ToString("D20", CultureInfo.InvariantCulture)}.log";

    public static string SnapshotName(long index) => $"snapshot-{index.ToString("D20", CultureInfo.InvariantCulture)}.snap";

    public static bool TryParseIndex(string fileName, string prefix, string suffix, out long index)
    {
        index = 0;
        return fileName.StartsWith(prefix, StringComparison.Ordinal) && fileName.EndsWith(suffix, StringComparison.Ordinal)
            && long.TryParse(fileName.AsSpan(prefix.Length, fileName.Length - prefix.Length - suffix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out index);
    }
}

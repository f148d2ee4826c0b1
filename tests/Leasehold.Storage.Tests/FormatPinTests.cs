using System.Text;
using Leasehold.Core;
using Leasehold.Core.Pools;

namespace Leasehold.Storage.Tests;

/// <summary>The on-disk numbers and names. Changing any of them breaks reading existing data directories.</summary>
public class FormatPinTests
{
    [Fact]
    public void CommandTagNumbersAreFrozen()
    {
        var expected = new Dictionary<CommandCodec.Tag, byte>
        {
            [CommandCodec.Tag.AcquireLease] = 1,
            [CommandCodec.Tag.RenewLease] = 2,
            [CommandCodec.Tag.ReleaseLease] = 3,
            [CommandCodec.Tag.OpenSession] = 4,
            [CommandCodec.Tag.KeepAliveSession] = 5,
            [CommandCodec.Tag.CloseSession] = 6,
            [CommandCodec.Tag.CancelWait] = 7,
            [CommandCodec.Tag.Tick] = 8,
            [CommandCodec.Tag.DropWaiters] = 9,
            [CommandCodec.Tag.Recover] = 10,
            [CommandCodec.Tag.AcquireFromPools] = 11,
            [CommandCodec.Tag.DeclareResource] = 12,
            [CommandCodec.Tag.RemoveResource] = 13,
            [CommandCodec.Tag.RevokeLease] = 14,
            [CommandCodec.Tag.EndSession] = 15,
            [CommandCodec.Tag.DrainPrefix] = 16,
            [CommandCodec.Tag.UndrainPrefix] = 17,
            [CommandCodec.Tag.TakeOver] = 18,
        };
        Assert.Equal(expected.Count, Enum.GetValues<CommandCodec.Tag>().Length);
        Assert.All(expected, e => Assert.Equal(e.Value, (byte)e.Key));
    }

    [Fact]
    public void LockModeNumbersAreFrozen()
    {
        Assert.Equal(0, (byte)LockMode.Exclusive);
        Assert.Equal(1, (byte)LockMode.Shared);
        Assert.Equal(2, Enum.GetValues<LockMode>().Length);
    }

    [Fact]
    public void EndReasonNumbersAreFrozen()
    {
        Assert.Equal(0, (byte)EndReason.Released);
        Assert.Equal(1, (byte)EndReason.Expired);
        Assert.Equal(2, (byte)EndReason.SessionEnded);
        Assert.Equal(3, (byte)EndReason.Revoked);
        Assert.Equal(4, Enum.GetValues<EndReason>().Length);
    }

    [Fact]
    public void VersionAndSizesAreFrozen()
    {
        // Log version 3 adds principals to acquire and open-session records; 1 and 2 are still read.
        // Snapshot version 4 adds principals and drains; 1 to 3 are still read.
        Assert.Equal(3, LogFormat.Version);
        Assert.Equal(1, LogFormat.OldestVersion);
        Assert.Equal(3, LogFormat.FirstVersionWithPrincipals);
        Assert.Equal(5, LogFormat.SnapshotVersion);
        Assert.Equal(5, LogFormat.FirstSnapshotVersionWithRevision);
        Assert.Equal(3, LogFormat.FirstSnapshotVersionWithHashedTokens);
        Assert.Equal(4, LogFormat.FirstSnapshotVersionWithPrincipals);
        Assert.Equal(24, LogFormat.SegmentHeaderSize);
        Assert.Equal(16, LogFormat.RecordHeaderSize);
        Assert.Equal(1 << 20, LogFormat.MaxPayload);
    }

    [Fact]
    public void MagicsAreFrozen()
    {
        Assert.Equal("4C4857414C0D0A00", Convert.ToHexString(LogFormat.SegmentMagic));
        Assert.Equal("LHWAL\r\n\0", Encoding.ASCII.GetString(LogFormat.SegmentMagic));
        Assert.Equal("4C48534E41500D0A", Convert.ToHexString(LogFormat.SnapshotMagic));
        Assert.Equal("LHSNAP\r\n", Encoding.ASCII.GetString(LogFormat.SnapshotMagic));
    }

    [Fact]
    public void FileNamesAreFrozen()
    {
        Assert.Equal("leasehold.lock", LogFormat.LockFile);
        Assert.Equal("leasehold.manifest", LogFormat.ManifestFile);
        Assert.Equal("wal-00000000000000000001.log", LogFormat.SegmentName(1));
        Assert.Equal("wal-09223372036854775807.log", LogFormat.SegmentName(long.MaxValue));
        Assert.Equal("snapshot-00000000000000000042.snap", LogFormat.SnapshotName(42));
    }

    [Theory]
    [InlineData("wal-00000000000000000017.log", "wal-", ".log", true, 17)]
    [InlineData("snapshot-00000000000000000003.snap", "snapshot-", ".snap", true, 3)]
    [InlineData("wal-00000000000000000017.log.tmp", "wal-", ".log", false, 0)]
    [InlineData("wal--1.log", "wal-", ".log", false, 0)]
    [InlineData("wal-x.log", "wal-", ".log", false, 0)]
    public void FileNamesParseBack(string name, string prefix, string suffix, bool ok, long index)
    {
        Assert.Equal(ok, LogFormat.TryParseIndex(name, prefix, suffix, out var parsed));
        Assert.Equal(index, ok ? parsed : 0);
    }

    /// <summary>The manifest as docs/storage.md shows it, byte for byte; and it reads back.</summary>
    [Fact]
    public void ManifestTextIsFrozen()
    {
        const string Golden = "leasehold manifest 1\nsnapshot 120000\nthrough 120000\nsegment 120001\ncrc32c 2dcaba88\n";
        var manifest = new Manifest(120000, 120000, [120001]);
        Assert.Equal(Golden, manifest.Encode());
        using var dir = new TempDir();
        File.WriteAllText(dir.File(LogFormat.ManifestFile), Golden);
        var read = Manifest.Read(dir.Dir)!;
        Assert.Equal((120000L, 120000L), (read.SnapshotIndex, read.Through));
        Assert.Equal([120001L], read.Segments);
    }
}

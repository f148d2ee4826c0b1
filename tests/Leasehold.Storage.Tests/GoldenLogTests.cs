using Leasehold.Core;

namespace Leasehold.Storage.Tests;

/// <summary>
/// Byte-for-byte pins of the log format. The hex below was produced by an independent encoder written from
/// the format description (little-endian, strings as UTF-8 byte count + 1 then bytes, CRC-32C over index and
/// payload), not by this code. If one of these fails, old data directories no longer read: add a new
/// version instead of changing the bytes.
/// </summary>
public class GoldenLogTests : IDisposable
{
    /// <summary>Magic "LHWAL\r\n\0", version 1, reserved 0, first index 1.</summary>
    internal const string SegmentHeaderHex = "4C4857414C0D0A0001000000000000000100000000000000";

    /// <summary>Record 1: OpenSession.</summary>
    internal const string OpenSessionRecordHex =
        "28000000" + "97D5B36F" + "0100000000000000"
        + "04" + "0068E5CF8B010000" + "1027000000000000" + "04000000737663" + "000102030405060708090A0B0C0D0E0F";

    /// <summary>Record 2: AcquireLease. Fields split at their boundaries.</summary>
    internal const string AcquireRecordHex =
        "64000000" // payload length 100
        + "64F44297" // crc32c of index + payload
        + "0200000000000000" // index 2
        + "01" // tag AcquireLease
        + "0568E5CF8B010000" // now
        + "02000000" // 2 paths
        + "0C0000002F6C61622F7261636B2D31" // "/lab/rack-1"
        + "0C0000002F636166C3A92FF09F9880" // "/café/😀"
        + "00" // exclusive
        + "03000000" // limit 3
        + "3075000000000000" // ttl 30000
        + "8813000000000000" // wait 5000
        + "0100000000000000" // session 1
        + "01" // lock parents
        + "00" // lock children
        + "070000006D6520E29883" // owner "me ☃"
        + "FFEEDDCCBBAA99887766554433221100"; // token

    private readonly TempDir _dir = new();

    internal static OpenSession GoldenOpen => new()
    {
        Now = Cmd.T0,
        TtlMs = 10_000,
        Owner = "svc",
        Token = new UInt128(0x0F0E0D0C0B0A0908, 0x0706050403020100),
    };

    internal static AcquireLease GoldenAcquire => new()
    {
        Now = Cmd.T0 + 5,
        Paths = Cmd.Ps("/lab/rack-1", "/caf\u00e9/\U0001F600"),
        Mode = LockMode.Exclusive,
        Limit = 3,
        TtlMs = 30_000,
        WaitMs = 5_000,
        SessionId = 1,
        LockParents = true,
        LockChildren = false,
        Owner = "me \u2603",
        Token = new UInt128(0x0011223344556677, 0x8899AABBCCDDEEFF),
    };

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void AcquireLeaseRecordIsByteForByte()
    {
        using var buffer = new LogBuffer();
        buffer.Append(2, GoldenAcquire);
        Assert.Equal(AcquireRecordHex, Convert.ToHexString(buffer.Written));
        Assert.Equal(1, buffer.Records);
        Assert.Equal(2, buffer.FirstIndex);
    }

    [Fact]
    public void OpenSessionRecordIsByteForByte()
    {
        using var buffer = new LogBuffer();
        buffer.Append(1, GoldenOpen);
        Assert.Equal(OpenSessionRecordHex, Convert.ToHexString(buffer.Written));
    }

    [Fact]
    public void GoldenAcquirePayloadDecodes()
    {
        var payload = Convert.FromHexString(AcquireRecordHex)[LogFormat.RecordHeaderSize..];
        var decoded = Assert.IsType<AcquireLease>(CommandCodec.Read(payload));
        var expected = GoldenAcquire;
        Assert.Equal(expected.Paths.Select(p => p.Value), decoded.Paths.Select(p => p.Value));
        Assert.Equal(expected with { Paths = decoded.Paths }, decoded);
    }

    [Fact]
    public void NewSegmentHeaderIsByteForByte()
    {
        using (DataStore.Open(_dir.Dir))
        {
        }
        Assert.Equal(SegmentHeaderHex, Convert.ToHexString(File.ReadAllBytes(_dir.Segment(1))));
    }

    [Fact]
    public void DirectoryBuiltFromGoldenBytesOpens()
    {
        File.WriteAllBytes(_dir.Segment(1), Convert.FromHexString(SegmentHeaderHex + OpenSessionRecordHex + AcquireRecordHex));

        using var store = DataStore.Open(_dir.Dir);

        Assert.Equal(3, store.NextIndex);
        Assert.Equal(2, store.Report.RecordsReplayed);
        Assert.Equal(0, store.Report.TruncatedBytes);
        var session = Assert.Single(store.Engine.Sessions);
        Assert.Equal((1L, "svc", 10_000L, Cmd.T0 + 10_000), (session.Id, session.Owner, session.TtlMs, session.ExpiresAt));
        Assert.Equal(GoldenOpen.Token, session.Token);
        var lease = Assert.Single(store.Engine.Leases);
        Assert.Equal(["/lab/rack-1", "/caf\u00e9/\U0001F600"], lease.Paths.Select(p => p.Value));
        Assert.Equal((1L, 1L, LockMode.Exclusive, 3), (lease.Id, lease.Fence, lease.Mode, lease.Limit));
        Assert.Equal((true, false, "me \u2603", 1L), (lease.LockParents, lease.LockChildren, lease.Owner, lease.SessionId));
        Assert.Equal((30_000L, Cmd.T0 + 5, Cmd.T0 + 5 + 30_000), (lease.TtlMs, lease.AcquiredAt, lease.ExpiresAt));
        Assert.Equal(GoldenAcquire.Token, lease.Token);
    }
}

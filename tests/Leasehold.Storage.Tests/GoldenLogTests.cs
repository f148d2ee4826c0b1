using Leasehold.Core;
using Leasehold.Core.Pools;

namespace Leasehold.Storage.Tests;

/// <summary>
/// Byte-for-byte pins of the log format. The hex below was produced by an independent encoder written from
/// the format description (little-endian, strings as UTF-8 byte count + 1 then bytes, CRC-32C over index and
/// payload), not by this code. If one of these fails, old data directories no longer read: add a new
/// version instead of changing the bytes.
/// </summary>
public class GoldenLogTests : IDisposable
{
    /// <summary>Magic "LHWAL\r\n\0", version 3, reserved 0, first index 1.</summary>
    internal const string SegmentHeaderHex = "4C4857414C0D0A0003000000000000000100000000000000";

    /// <summary>The header of a version 2 segment, written before principals: its records below have no principal field.</summary>
    internal const string Version2SegmentHeaderHex = "4C4857414C0D0A0002000000000000000100000000000000";

    /// <summary>The header of a version 1 segment, written before tokens were hashed: its token fields hold tokens.</summary>
    internal const string Version1SegmentHeaderHex = "4C4857414C0D0A0001000000000000000100000000000000";

    /// <summary>Record 1: OpenSession, as versions 1 and 2 wrote it.</summary>
    internal const string OpenSessionRecordHex =
        "28000000" + "97D5B36F" + "0100000000000000"
        + "04" + "0068E5CF8B010000" + "1027000000000000" + "04000000737663" + "000102030405060708090A0B0C0D0E0F";

    /// <summary>Record 2: AcquireLease, as versions 1 and 2 wrote it. Fields split at their boundaries.</summary>
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

    /// <summary>Record 1 in version 3: OpenSession, the version 2 fields then the principal.</summary>
    internal const string OpenSessionRecordV3Hex =
        "31000000" + "AF5C4A61" + "0100000000000000"
        + "04" + "0068E5CF8B010000" + "1027000000000000" + "04000000737663" + "000102030405060708090A0B0C0D0E0F"
        + "06000000616C696365"; // principal "alice"

    /// <summary>Record 2 in version 3: AcquireLease, the version 2 fields then the principal.</summary>
    internal const string AcquireRecordV3Hex =
        "6D000000" // payload length 109
        + "F34E47A5" // crc32c of index + payload
        + "0200000000000000" // index 2
        + "01" + "0568E5CF8B010000" // tag, now
        + "02000000" + "0C0000002F6C61622F7261636B2D31" + "0C0000002F636166C3A92FF09F9880" // paths
        + "00" + "03000000" + "3075000000000000" + "8813000000000000" + "0100000000000000" + "01" + "00" // mode .. lock children
        + "070000006D6520E29883" // owner "me ☃"
        + "FFEEDDCCBBAA99887766554433221100" // token
        + "06000000616C696365"; // principal "alice"

    /// <summary>Payload of an AcquireFromPools command (tag 11) in version 3: the acquire fields (principal after the token), then the groups and reuse.</summary>
    internal const string AcquireFromPoolsPayloadV3Hex =
        "0B" + "0768E5CF8B010000" + "00000000" + "00" + "00000000" + "3075000000000000" + "8813000000000000" + "0000000000000000" + "01" + "00"
        + "030000006369" // owner "ci"
        + "FFEEDDCCBBAA99887766554433221100" // token
        + "0700000063692D626F74" // principal "ci-bot"
        + "02000000"
        + "0C0000002F706F6F6C2F636166C3A9" + "0B0000007B226F73223A2261227D" + "02000000"
        + "050000002F677075" + "100000007B226E223A7B22246774223A327D7D" + "01000000"
        + "01";

    /// <summary>RevokeLease (tag 14): lease id, actor.</summary>
    internal const string RevokePayloadHex = "0E" + "0A68E5CF8B010000" + "0200000000000000" + "05000000726F6F74"; // lease 2, "root"

    /// <summary>EndSession (tag 15): session id, actor (null: security off).</summary>
    internal const string EndSessionPayloadHex = "0F" + "0B68E5CF8B010000" + "0100000000000000" + "00000000";

    /// <summary>DrainPrefix (tag 16): path, actor.</summary>
    internal const string DrainPayloadHex = "10" + "0C68E5CF8B010000" + "0C0000002F6C61622F7261636B2D31" + "080000006F707320E29883"; // "/lab/rack-1", "ops ☃"

    /// <summary>UndrainPrefix (tag 17): path, actor.</summary>
    internal const string UndrainPayloadHex = "11" + "0D68E5CF8B010000" + "0C0000002F6C61622F7261636B2D31" + "040000006F7073"; // "/lab/rack-1", "ops"

    /// <summary>Payload of an AcquireFromPools command (tag 11) as version 2 wrote it: the acquire fields with no paths, then the groups and reuse.</summary>
    internal const string AcquireFromPoolsPayloadHex =
        "0B" // tag AcquireFromPools
        + "0768E5CF8B010000" // now
        + "00000000" // 0 paths
        + "00" // exclusive
        + "00000000" // no limit
        + "3075000000000000" // ttl 30000
        + "8813000000000000" // wait 5000
        + "0000000000000000" // no session
        + "01" // lock parents
        + "00" // lock children
        + "030000006369" // owner "ci"
        + "FFEEDDCCBBAA99887766554433221100" // token
        + "02000000" // 2 groups
        + "0C0000002F706F6F6C2F636166C3A9" + "0B0000007B226F73223A2261227D" + "02000000" // "/pool/caf\u00e9", {"os":"a"}, count 2
        + "050000002F677075" + "100000007B226E223A7B22246774223A327D7D" + "01000000" // "/gpu", {"n":{"$gt":2}}, count 1
        + "01"; // reuse

    /// <summary>Payload of a DeclareResource command (tag 12): path, attributes.</summary>
    internal const string DeclareResourcePayloadHex =
        "0C" + "0868E5CF8B010000" // tag, now
        + "110000002F706F6F6C2F636166C3A92FF09F9880" // "/pool/caf\u00e9/\U0001F600"
        + "110000007B226F73223A2261222C226E223A337D"; // {"os":"a","n":3}

    /// <summary>Payload of a RemoveResource command (tag 13): path.</summary>
    internal const string RemoveResourcePayloadHex =
        "0D" + "0968E5CF8B010000" // tag, now
        + "090000002F706F6F6C2F7231"; // "/pool/r1"

    private readonly TempDir _dir = new();

    internal static OpenSession GoldenOpen => new()
    {
        Now = Cmd.T0,
        TtlMs = 10_000,
        Owner = "svc",
        Token = new UInt128(0x0F0E0D0C0B0A0908, 0x0706050403020100),
        Principal = "alice",
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
        Principal = "alice",
    };

    internal static AcquireLease GoldenPoolAcquire => new()
    {
        Now = Cmd.T0 + 7,
        Paths = [],
        TtlMs = 30_000,
        WaitMs = 5_000,
        LockParents = true,
        LockChildren = false,
        Owner = "ci",
        Token = new UInt128(0x0011223344556677, 0x8899AABBCCDDEEFF),
        Principal = "ci-bot",
        Groups = [new PoolGroup(Cmd.P("/pool/caf\u00e9"), "{\"os\":\"a\"}", 2), new PoolGroup(Cmd.P("/gpu"), "{\"n\":{\"$gt\":2}}", 1)],
        Reuse = true,
    };

    internal static DeclareResource GoldenDeclare => new()
    {
        Now = Cmd.T0 + 8,
        Path = Cmd.P("/pool/caf\u00e9/\U0001F600"),
        Attributes = "{\"os\":\"a\",\"n\":3}",
    };

    internal static RemoveResource GoldenRemove => new() { Now = Cmd.T0 + 9, Path = Cmd.P("/pool/r1") };

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, string> PoolPayloads => new()
    {
        { "acquire from pools", AcquireFromPoolsPayloadV3Hex },
        { "declare", DeclareResourcePayloadHex },
        { "remove", RemoveResourcePayloadHex },
        { "revoke", RevokePayloadHex },
        { "end session", EndSessionPayloadHex },
        { "drain", DrainPayloadHex },
        { "undrain", UndrainPayloadHex },
    };

    private static Command PoolCommand(string name) => name switch
    {
        "acquire from pools" => GoldenPoolAcquire,
        "declare" => GoldenDeclare,
        "revoke" => new RevokeLease { Now = Cmd.T0 + 10, LeaseId = 2, Actor = "root" },
        "end session" => new EndSession { Now = Cmd.T0 + 11, SessionId = 1, Actor = null },
        "drain" => new DrainPrefix { Now = Cmd.T0 + 12, Path = Cmd.P("/lab/rack-1"), Actor = "ops \u2603" },
        "undrain" => new UndrainPrefix { Now = Cmd.T0 + 13, Path = Cmd.P("/lab/rack-1"), Actor = "ops" },
        _ => GoldenRemove,
    };

    /// <summary>A version 2 pool record reads with no principal, and the administrators' tags did not exist then.</summary>
    [Fact]
    public void Version2PoolPayloadDecodesWithoutAPrincipal()
    {
        var decoded = Assert.IsType<AcquireLease>(CommandCodec.Read(Convert.FromHexString(AcquireFromPoolsPayloadHex), version: 2));
        Assert.Null(decoded.Principal);
        Assert.Equal(GoldenPoolAcquire with { Principal = null, Paths = decoded.Paths, Groups = decoded.Groups }, decoded);
        var ex = Assert.Throws<FormatException>(() => CommandCodec.Read(Convert.FromHexString(RevokePayloadHex), version: 2));
        Assert.Contains("unknown command tag 14", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(PoolPayloads))]
    public void PoolCommandPayloadIsByteForByte(string name, string hex)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        CommandCodec.Write(buffer, PoolCommand(name));
        Assert.Equal(hex, Convert.ToHexString(buffer.WrittenSpan));
    }

    [Theory]
    [MemberData(nameof(PoolPayloads))]
    public void GoldenPoolPayloadDecodes(string name, string hex)
    {
        var decoded = CommandCodec.Read(Convert.FromHexString(hex));
        var expected = PoolCommand(name);
        if (expected is AcquireLease a)
        {
            var b = Assert.IsType<AcquireLease>(decoded);
            Assert.Empty(b.Paths);
            Assert.Equal(a.Groups!.Select(g => (g.Pool.Value, g.Require, g.Count)), b.Groups!.Select(g => (g.Pool.Value, g.Require, g.Count)));
            Assert.Equal(a with { Paths = b.Paths, Groups = b.Groups }, b);
        }
        else
        {
            Assert.Equal(expected, decoded);
        }
    }

    [Fact]
    public void AcquireLeaseRecordIsByteForByte()
    {
        using var buffer = new LogBuffer();
        buffer.Append(2, GoldenAcquire);
        Assert.Equal(AcquireRecordV3Hex, Convert.ToHexString(buffer.Written));
        Assert.Equal(1, buffer.Records);
        Assert.Equal(2, buffer.FirstIndex);
    }

    [Fact]
    public void OpenSessionRecordIsByteForByte()
    {
        using var buffer = new LogBuffer();
        buffer.Append(1, GoldenOpen);
        Assert.Equal(OpenSessionRecordV3Hex, Convert.ToHexString(buffer.Written));
    }

    [Fact]
    public void GoldenAcquirePayloadDecodes()
    {
        var payload = Convert.FromHexString(AcquireRecordV3Hex)[LogFormat.RecordHeaderSize..];
        var decoded = Assert.IsType<AcquireLease>(CommandCodec.Read(payload));
        var expected = GoldenAcquire;
        Assert.Equal(expected.Paths.Select(p => p.Value), decoded.Paths.Select(p => p.Value));
        Assert.Equal(expected with { Paths = decoded.Paths }, decoded);

        var old = Assert.IsType<AcquireLease>(CommandCodec.Read(Convert.FromHexString(AcquireRecordHex)[LogFormat.RecordHeaderSize..], version: 2));
        Assert.Equal(expected with { Paths = old.Paths, Principal = null }, old);
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
    public void Version1DirectoryOpensWithItsTokensHashedAndGoesOnInANewSegment()
    {
        File.WriteAllBytes(_dir.Segment(1), Convert.FromHexString(Version1SegmentHeaderHex + OpenSessionRecordHex + AcquireRecordHex));

        using (var d = new StoreDriver(_dir.Dir))
        {
            Assert.Equal(2, d.Store.Report.RecordsReplayed);
            Assert.Equal(TokenHash.Of(GoldenOpen.Token), Assert.Single(d.Engine.Sessions).Token);
            var lease = Assert.Single(d.Engine.Leases);
            Assert.Equal(TokenHash.Of(GoldenAcquire.Token), lease.Token);
            // The holder's token still ends it: the server hashes what a client presents.
            Assert.Equal(ErrorCode.None, ((OperationResult<Lease>)d.Apply(
                new ReleaseLease { Now = Cmd.T0 + 10, LeaseId = lease.Id, Token = TokenHash.Of(GoldenAcquire.Token) })!).Error);
        }

        // The version 1 segment is left as it was; what came after is in a current (version 3) segment of its own.
        Assert.Equal(Version1SegmentHeaderHex + OpenSessionRecordHex + AcquireRecordHex, Convert.ToHexString(File.ReadAllBytes(_dir.Segment(1))));
        Assert.Equal("03000000", Convert.ToHexString(File.ReadAllBytes(_dir.Segment(3)).AsSpan(8, 4)));
        using var reopened = DataStore.Open(_dir.Dir);
        Assert.Equal(3, reopened.Report.RecordsReplayed);
        Assert.Empty(reopened.Engine.Leases);
        Assert.Equal(TokenHash.Of(GoldenOpen.Token), Assert.Single(reopened.Engine.Sessions).Token);
    }

    [Fact]
    public void A_version1_reuse_replays_as_it_was_decided_by_owner_alone()
    {
        // Written by a server whose reuse matched the owner's lease whatever the token: the second request
        // renewed lease 1, so the release with lease 1's token left nothing held.
        var pool = new PoolGroup(Cmd.P("/pool"), "{}", 1);
        Command[] commands =
        [
            new DeclareResource { Now = Cmd.T0, Path = Cmd.P("/pool/a"), Attributes = "{}" },
            new DeclareResource { Now = Cmd.T0, Path = Cmd.P("/pool/b"), Attributes = "{}" },
            new AcquireLease { Now = Cmd.T0 + 1, Paths = [], Groups = [pool], Owner = "o", Reuse = true, TtlMs = 60_000, Token = 0xA },
            new AcquireLease { Now = Cmd.T0 + 2, Paths = [], Groups = [pool], Owner = "o", Reuse = true, TtlMs = 60_000, Token = 0xB },
            new ReleaseLease { Now = Cmd.T0 + 3, LeaseId = 1, Token = 0xA },
        ];
        using (var buffer = new LogBuffer())
        {
            for (var i = 0; i < commands.Length; i++)
            {
                buffer.Append(i + 1, commands[i], version: 1);
            }
            File.WriteAllBytes(_dir.Segment(1), [.. Convert.FromHexString(Version1SegmentHeaderHex), .. buffer.Written]);
        }

        using var store = DataStore.Open(_dir.Dir);

        Assert.Equal(5, store.Report.RecordsReplayed);
        Assert.Empty(store.Engine.Leases);
        Assert.Equal(1, store.Engine.LastFence);
    }

    [Fact]
    public void DirectoryBuiltFromGoldenBytesOpens()
    {
        File.WriteAllBytes(_dir.Segment(1), Convert.FromHexString(SegmentHeaderHex + OpenSessionRecordV3Hex + AcquireRecordV3Hex));

        using var store = DataStore.Open(_dir.Dir);

        Assert.Equal(2, store.Report.RecordsReplayed);
        Assert.Equal("alice", Assert.Single(store.Engine.Sessions).Principal);
        Assert.Equal("alice", Assert.Single(store.Engine.Leases).Principal);
        Assert.Equal(new PrincipalCounts(1, 1, 0), store.Engine.CountsOf("alice"));
    }

    [Fact]
    public void Version2DirectoryOpensWithoutPrincipals()
    {
        File.WriteAllBytes(_dir.Segment(1), Convert.FromHexString(Version2SegmentHeaderHex + OpenSessionRecordHex + AcquireRecordHex));

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
        Assert.Equal((null, null), (session.Principal, lease.Principal));
        Assert.Equal(new PrincipalCounts(1, 1, 0), store.Engine.CountsOf(null));
    }
}

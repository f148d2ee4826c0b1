using Leasehold.Core;
using Leasehold.Core.Pools;

namespace Leasehold.Storage.Tests;

/// <summary>
/// Byte-for-byte pins of tiny snapshots, produced by an independent encoder from the format description.
/// Version 1 (one session, one lease, one waiter) is what servers before pools wrote: it must still read.
/// Version 2 adds pool groups to claims, the release counter, declared resources and history. Version 3
/// (what this server writes) keeps token hashes instead of tokens; versions 1 and 2 are read with each
/// token hashed. A change here means old snapshots no longer read.
/// </summary>
public class GoldenSnapshotTests : IDisposable
{
    /// <summary>A version 1 snapshot: no groups in claims, nothing after the waiters.</summary>
    private const string V1SnapshotHex =
        "4C48534E41500D0A" + "01000000" + "00000000" + "0900000000000000" // magic, version 1, reserved, index 9
        + "0100000000000000" + "0100000000000000" + "0200000000000000" + "0500000000000000" // last lease, session, waiter ids, last fence
        + "01000000" // 1 session
        + "0100000000000000" + "A1000000000000000000000000000000" + "04000000737663" + "1027000000000000" + "108FE5CF8B010000"
        + "01000000" // 1 lease: id, token, fence
        + "0100000000000000" + "B2000000000000000000000000000000" + "0500000000000000"
        + "01000000" + "030000002F61" + "00" + "01000000" + "00" + "01" + "00000000" + "0100000000000000" + "60EA000000000000" // claim
        + "0068E5CF8B010000" + "FA00000000000000" + "6052E6CF8B010000" // acquired, waited, expires
        + "01000000" // 1 waiter: id, token
        + "0200000000000000" + "C3000000000000000000000000000000"
        + "01000000" + "050000002F612F62" + "01" + "00000000" + "01" + "01" + "0200000077" + "0000000000000000" + "E803000000000000" // claim
        + "6468E5CF8B010000" + "3470E5CF8B010000" // enqueued, deadline
        + "434294F7"; // crc32c of everything before

    /// <summary>
    /// A version 2 snapshot: a plain lease, a pool lease with its group and chosen path, a pool waiter, two
    /// declared resources (one released once) and two history entries (a pool lease and a plain one).
    /// </summary>
    internal const string V2SnapshotHex =
        "4C48534E41500D0A" + "02000000" + "00000000" + "0C00000000000000" // magic, version 2, reserved, index 12
        + "0400000000000000" + "0100000000000000" + "0500000000000000" + "0400000000000000" // last lease, session, waiter ids, last fence
        + "01000000" // 1 session
        + "0100000000000000" + "A1000000000000000000000000000000" + "04000000737663" + "1027000000000000" + "108FE5CF8B010000"
        + "02000000" // 2 leases
        + "0300000000000000" + "B3000000000000000000000000000000" + "0300000000000000" // lease 3: id, token, fence
        + "01000000030000002F61" + "00" + "01000000" + "00" + "01" + "00000000" + "0100000000000000" + "60EA000000000000" // claim: ["/a"], exclusive, limit 1, parents no, children yes, owner null, session 1, ttl 60000
        + "FFFFFFFF" // no groups (-1)
        + "0068E5CF8B010000" + "FA00000000000000" + "6052E6CF8B010000" // acquired, waited, expires
        + "0400000000000000" + "B4000000000000000000000000000000" + "0400000000000000" // lease 4 (pool): id, token, fence
        + "01000000090000002F706F6F6C2F7231" + "00" + "01000000" + "01" + "01" + "030000006369" + "0000000000000000" + "0000000000000000" // claim: ["/pool/r1"], owner "ci", no session, no ttl
        + "01000000" // 1 group
        + "060000002F706F6F6C" + "0C0000007B226F73223A202261227D" + "01000000" + "01000000090000002F706F6F6C2F7231" // "/pool", {"os": "a"}, count 1, chosen ["/pool/r1"]
        + "0A68E5CF8B010000" + "0000000000000000" + "FFFFFFFFFFFFFF7F" // acquired, waited, expires never
        + "01000000" // 1 waiter
        + "0500000000000000" + "C5000000000000000000000000000000" // waiter 5 (pool): id, token
        + "01000000090000002F706F6F6C2F7231" + "00" + "01000000" + "01" + "01" + "0200000077" + "0000000000000000" + "E803000000000000" // claim: its candidates ["/pool/r1"], owner "w", ttl 1000
        + "01000000" // 1 group
        + "060000002F706F6F6C" + "100000007B226E223A7B22246774223A327D7D" + "01000000" + "00000000" // "/pool", {"n":{"$gt":2}}, count 1, nothing chosen
        + "6468E5CF8B010000" + "3470E5CF8B010000" // enqueued, deadline
        + "0100000000000000" // last release seq 1
        + "02000000" // 2 declared resources, in path order
        + "0C0000002F706F6F6C2F636166C3A9" + "110000007B226F73223A2262222C226E223A317D" + "0100000000000000" // "/pool/café", {"os":"b","n":1}, released seq 1
        + "090000002F706F6F6C2F7231" + "110000007B226F73223A2261222C226E223A337D" + "0000000000000000" // "/pool/r1", {"os":"a","n":3}, never released
        + "02000000" // 2 history entries, oldest first
        + "0100000000000000" + "0100000000000000" + "030000006369" + "010000000C0000002F706F6F6C2F636166C3A9" // lease 1, fence 1, owner "ci", ["/pool/café"]
        + "01000000" + "0B0000007B226F73223A2262227D" // 1 requirement: {"os":"b"}
        + "7854E5CF8B010000" + "0000000000000000" + "1864E5CF8B010000" + "00" // acquired, queued 0, ended, released
        + "0200000000000000" + "0200000000000000" + "00000000" + "02000000030000002F78030000002F79" // lease 2, fence 2, owner null, ["/x", "/y"]
        + "FFFFFFFF" // no requirements (-1)
        + "6058E5CF8B010000" + "1E00000000000000" + "0C66E5CF8B010000" + "02" // acquired, queued 30, ended, session ended
        + "5C256D2D";

    /// <summary>
    /// Version 3 (what this server writes): version 2's layout and bytes, but for the version and the checksum;
    /// its token fields hold token hashes, where version 2's held the tokens themselves.
    /// </summary>
    internal static readonly string V3SnapshotHex = "4C48534E41500D0A03000000" + V2SnapshotHex[24..^8] + "C2C5D750"; // crc32c of everything before


    /// <summary>
    /// Version 4 (what this server writes): version 3 with a principal after each session, after each claim's
    /// groups, and two names (principal, ended by) after each history entry; then the drained prefixes.
    /// </summary>
    internal const string V4SnapshotHex =
        "4C48534E41500D0A04000000000000000C000000000000000400000000000000010000000000000005000000000000000400000000000000010000000100000000000000A1000000000000000000000000000000040000007376631027000000000000108FE5CF8B010000"
        + "06000000616C696365" // session 1: principal "alice"
        + "020000000300000000000000B3000000000000000000000000000000030000000000000001000000030000002F610001000000000100000000010000000000000060EA000000000000FFFFFFFF"
        + "00000000" // lease 3: principal null
        + "0068E5CF8B010000FA000000000000006052E6CF8B0100000400000000000000B4000000000000000000000000000000040000000000000001000000090000002F706F6F6C2F7231000100000001010300000063690000000000000000000000000000000001000000060000002F706F6F6C0C0000007B226F73223A202261227D0100000001000000090000002F706F6F6C2F7231"
        + "0700000063692D626F74" // lease 4: principal "ci-bot"
        + "0A68E5CF8B0100000000000000000000FFFFFFFFFFFFFF7F010000000500000000000000C500000000000000000000000000000001000000090000002F706F6F6C2F72310001000000010102000000770000000000000000E80300000000000001000000060000002F706F6F6C100000007B226E223A7B22246774223A327D7D0100000000000000"
        + "04000000772D70" // waiter 5: principal "w-p"
        + "6468E5CF8B0100003470E5CF8B0100000100000000000000020000000C0000002F706F6F6C2F636166C3A9110000007B226F73223A2262222C226E223A317D0100000000000000090000002F706F6F6C2F7231110000007B226F73223A2261222C226E223A337D00000000000000000200000001000000000000000100000000000000030000006369010000000C0000002F706F6F6C2F636166C3A9010000000B0000007B226F73223A2262227D7854E5CF8B01000000000000000000001864E5CF8B01000000"
        + "0700000063692D626F7400000000" // history 1: principal "ci-bot", ended by nobody
        + "020000000000000002000000000000000000000002000000030000002F78030000002F79FFFFFFFF6058E5CF8B0100001E000000000000000C66E5CF8B01000002"
        + "0000000005000000726F6F74" // history 2: principal null, ended by "root"
        + "01000000050000002F6C6162040000006F70730768E5CF8B010000" // 1 drain: "/lab" by "ops" since T0 + 7
        + "F86D0350"; // crc32c of everything before

    /// <summary>
    /// Version 5 (what this server writes): version 4 with the event revision (int64) after the drains.
    /// </summary>
    internal static readonly string V5SnapshotHex = "4C48534E41500D0A05000000" + V4SnapshotHex[24..^8]
        + "2A00000000000000" // revision 42
        + "BE9E8F96"; // crc32c of everything before

    private readonly TempDir _dir = new();

    private static EngineState V1State => new(
        LastLeaseId: 1,
        LastSessionId: 1,
        LastWaiterId: 2,
        LastFence: 5,
        Sessions: [new Session { Id = 1, Token = 0xA1, Owner = "svc", TtlMs = 10_000, ExpiresAt = Cmd.T0 + 10_000 }],
        Leases:
        [
            new Lease
            {
                Id = 1, Token = 0xB2, Fence = 5, Paths = Cmd.Ps("/a"), Mode = LockMode.Exclusive, Limit = 1,
                LockParents = false, LockChildren = true, Owner = null, SessionId = 1, TtlMs = 60_000,
                AcquiredAt = Cmd.T0, WaitedMs = 250, ExpiresAt = Cmd.T0 + 60_000,
            },
        ],
        Waiters:
        [
            new Waiter
            {
                Id = 2, Token = 0xC3, Paths = Cmd.Ps("/a/b"), Mode = LockMode.Shared, Limit = 0,
                LockParents = true, LockChildren = true, Owner = "w", SessionId = 0, TtlMs = 1_000,
                EnqueuedAt = Cmd.T0 + 100, Deadline = Cmd.T0 + 2_100,
            },
        ]);

    internal static EngineState V2State => new(
        LastLeaseId: 4,
        LastSessionId: 1,
        LastWaiterId: 5,
        LastFence: 4,
        Sessions: [new Session { Id = 1, Token = 0xA1, Owner = "svc", TtlMs = 10_000, ExpiresAt = Cmd.T0 + 10_000 }],
        Leases:
        [
            new Lease
            {
                Id = 3, Token = 0xB3, Fence = 3, Paths = Cmd.Ps("/a"), Mode = LockMode.Exclusive, Limit = 1,
                LockParents = false, LockChildren = true, Owner = null, SessionId = 1, TtlMs = 60_000,
                AcquiredAt = Cmd.T0, WaitedMs = 250, ExpiresAt = Cmd.T0 + 60_000,
            },
            new Lease
            {
                Id = 4, Token = 0xB4, Fence = 4, Paths = Cmd.Ps("/pool/r1"), Mode = LockMode.Exclusive, Limit = 1,
                LockParents = true, LockChildren = true, Owner = "ci", SessionId = 0, TtlMs = 0,
                Groups = [Group("/pool", "{\"os\": \"a\"}", 1, "/pool/r1")],
                AcquiredAt = Cmd.T0 + 10, WaitedMs = 0, ExpiresAt = long.MaxValue,
            },
        ],
        Waiters:
        [
            new Waiter
            {
                Id = 5, Token = 0xC5, Paths = Cmd.Ps("/pool/r1"), Mode = LockMode.Exclusive, Limit = 1,
                LockParents = true, LockChildren = true, Owner = "w", SessionId = 0, TtlMs = 1_000,
                Groups = [Group("/pool", "{\"n\":{\"$gt\":2}}", 1)],
                EnqueuedAt = Cmd.T0 + 100, Deadline = Cmd.T0 + 2_100,
            },
        ],
        LastReleaseSeq: 1,
        Resources:
        [
            Resource("/pool/caf\u00e9", "{\"os\":\"b\",\"n\":1}", releasedSeq: 1),
            Resource("/pool/r1", "{\"os\":\"a\",\"n\":3}", releasedSeq: 0),
        ],
        History:
        [
            new HistoryEntry(1, 1, "ci", Cmd.Ps("/pool/caf\u00e9"), ["{\"os\":\"b\"}"], Cmd.T0 - 5_000, 0, Cmd.T0 - 1_000, EndReason.Released),
            new HistoryEntry(2, 2, null, Cmd.Ps("/x", "/y"), null, Cmd.T0 - 4_000, 30, Cmd.T0 - 500, EndReason.SessionEnded),
        ]);

    /// <summary>The version 2 state with principals, one history entry ended by an administrator, and one drain.</summary>
    internal static EngineState V4State
    {
        get
        {
            var v2 = V2State;
            return v2 with
            {
                Sessions = [.. v2.Sessions.Select(s => new Session { Id = s.Id, Token = s.Token, Owner = s.Owner, TtlMs = s.TtlMs, ExpiresAt = s.ExpiresAt, Principal = "alice" })],
                Leases = [v2.Leases[0], WithPrincipal(v2.Leases[1], "ci-bot")],
                Waiters = [WithPrincipal(v2.Waiters[0], "w-p")],
                History = [v2.History![0] with { Principal = "ci-bot" }, v2.History[1] with { EndedBy = "root" }],
                Drains = [new Drain(Cmd.P("/lab"), "ops", Cmd.T0 + 7)],
            };
        }
    }

    private static Lease WithPrincipal(Lease l, string principal) => new()
    {
        Id = l.Id, Token = l.Token, Fence = l.Fence, Paths = l.Paths, Mode = l.Mode, Limit = l.Limit, LockParents = l.LockParents,
        LockChildren = l.LockChildren, Owner = l.Owner, SessionId = l.SessionId, TtlMs = l.TtlMs, Groups = l.Groups,
        AcquiredAt = l.AcquiredAt, WaitedMs = l.WaitedMs, ExpiresAt = l.ExpiresAt, Principal = principal,
    };

    private static Waiter WithPrincipal(Waiter w, string principal) => new()
    {
        Id = w.Id, Token = w.Token, Paths = w.Paths, Mode = w.Mode, Limit = w.Limit, LockParents = w.LockParents,
        LockChildren = w.LockChildren, Owner = w.Owner, SessionId = w.SessionId, TtlMs = w.TtlMs, Groups = w.Groups,
        EnqueuedAt = w.EnqueuedAt, Deadline = w.Deadline, Principal = principal,
    };

    public void Dispose() => _dir.Dispose();

    internal static GroupClaim Group(string pool, string require, int count, params string[] chosen)
    {
        Assert.True(GroupClaim.TryCreate(new PoolGroup(Cmd.P(pool), require, count), out var claim, out var error), error);
        claim.Chosen = Cmd.Ps(chosen);
        return claim;
    }

    internal static DeclaredResource Resource(string path, string json, long releasedSeq)
    {
        Assert.True(DeclaredResource.TryParseAttributes(json, out var attributes, out var error), error);
        return new DeclaredResource { Path = Cmd.P(path), AttributesJson = json, Attributes = attributes, ReleasedSeq = releasedSeq };
    }

    [Fact]
    public void EncodesByteForByte()
    {
        var bytes = SnapshotCodec.Encode(12, V4State with { Revision = 42 });
        Assert.Equal(V5SnapshotHex, Convert.ToHexString(bytes.WrittenSpan));
    }

    [Fact]
    public void GoldenV5BytesDecodeWithTheirRevision()
    {
        var (index, state) = SnapshotCodec.Read("golden.snap", Convert.FromHexString(V5SnapshotHex));
        Assert.Equal(12, index);
        StateAssert.Equal(V4State with { Revision = 42 }, state);
        Assert.Equal(42, LockEngine.Restore(state).Revision);
    }

    [Fact]
    public void GoldenV4BytesDecode()
    {
        var (index, state) = SnapshotCodec.Read("golden.snap", Convert.FromHexString(V4SnapshotHex));
        Assert.Equal(12, index);
        // Written before the event revision: it reads as 0.
        StateAssert.Equal(V4State, state);
        Assert.Equal(0, state.Revision);
        var engine = LockEngine.Restore(state);
        Assert.Equal(new PrincipalCounts(1, 0, 0), engine.CountsOf("ci-bot"));
        Assert.Equal(new PrincipalCounts(0, 1, 0), engine.CountsOf("alice"));
        Assert.Equal(new PrincipalCounts(0, 0, 1), engine.CountsOf("w-p"));
        Assert.Equal(new PrincipalCounts(1, 0, 0), engine.CountsOf(null));
        Assert.Equal("ops", engine.GetDrain(Cmd.P("/lab"))!.Actor);
    }

    /// <summary>Version 3, as the server before principals wrote it: no principals, no drains.</summary>
    [Fact]
    public void GoldenBytesDecode()
    {
        var (index, state) = SnapshotCodec.Read("golden.snap", Convert.FromHexString(V3SnapshotHex));
        Assert.Equal(12, index);
        StateAssert.Equal(V2State, state);
        // The requirement text is kept as given; its compiled form is compact.
        var group = Assert.Single(state.Leases[1].Groups!);
        Assert.Equal("{\"os\": \"a\"}", group.Group.Require);
        Assert.Equal("{\"os\":\"a\"}", group.Requirement.Text);
        Assert.Equal(System.Text.Json.JsonValueKind.Object, state.Resources![0].Attributes.ValueKind);
        Assert.Equal(1, state.Resources[0].Attributes.GetProperty("n").GetInt32());
    }

    [Fact]
    public void Version2SnapshotDecodesWithItsTokensHashed()
    {
        var (index, state) = SnapshotCodec.Read("golden-v2.snap", Convert.FromHexString(V2SnapshotHex));
        Assert.Equal(12, index);
        StateAssert.EqualWithHashedTokens(V2State, state);
        Assert.Equal(TokenHash.Of(0xB4), state.Leases.Single(l => l.Id == 4).Token);
    }

    [Fact]
    public void DirectoryWithGoldenSnapshotOpens()
    {
        File.WriteAllBytes(_dir.Snapshot(12), Convert.FromHexString(V3SnapshotHex));

        using var store = DataStore.Open(_dir.Dir);

        Assert.Equal(12, store.Report.SnapshotIndex);
        Assert.Equal(0, store.Report.RecordsReplayed);
        Assert.Equal(13, store.NextIndex);
        StateAssert.Equal(LockEngine.Restore(V2State).Capture(), store.Engine.Capture());
        Assert.Equal(1, store.Engine.GetSession(1)!.LeaseCount);
        StateAssert.Equal(V2State with { Sessions = store.Engine.Capture().Sessions }, store.Engine.Capture());
        Assert.Equal(2, store.Engine.DeclaredCount);
        Assert.Equal(["/pool/caf\u00e9", "/pool/r1"], store.Engine.ListDeclared(Cmd.P("/pool")).Select(r => r.Path.Value));
        Assert.Equal([1L, 2L], store.Engine.History.Select(h => h.LeaseId));
    }

    [Fact]
    public void GoldenStateGoesOnWorkingAfterOpen()
    {
        File.WriteAllBytes(_dir.Snapshot(12), Convert.FromHexString(V3SnapshotHex));
        using var d = new StoreDriver(_dir.Dir);

        // Releasing the pool lease hands /pool/r1 to the pool waiter (n 3 > 2) and records the release.
        var released = (OperationResult<Lease>)d.Apply(new ReleaseLease { Now = Cmd.T0 + 200, LeaseId = 4, Token = 0xB4 }, out var outcomes)!;
        Assert.Equal(ErrorCode.None, released.Error);
        var outcome = Assert.Single(outcomes);
        Assert.Equal((5L, ErrorCode.None), (outcome.WaiterId, outcome.Error));
        var granted = outcome.Lease!;
        Assert.Equal((5L, 5L), (granted.Id, granted.Fence));
        Assert.Equal(["/pool/r1"], Assert.Single(granted.Groups!).Chosen.Select(p => p.Value));
        var state = d.Engine.Capture();
        Assert.Equal(2, state.LastReleaseSeq);
        Assert.Equal(2, state.Resources!.Single(r => r.Path.Value == "/pool/r1").ReleasedSeq);
        var last = state.History![^1];
        Assert.Equal((4L, "ci", EndReason.Released), (last.LeaseId, last.Owner, last.Reason));
        Assert.Equal(["{\"os\":\"a\"}"], last.Requirements!);

        var live = d.Engine.Capture();
        d.Reopen();
        StateAssert.Equal(live, d.Engine.Capture());
    }

    [Fact]
    public void Version1SnapshotStillDecodes()
    {
        var (index, state) = SnapshotCodec.Read("golden-v1.snap", Convert.FromHexString(V1SnapshotHex));
        Assert.Equal(9, index);
        StateAssert.EqualWithHashedTokens(V1State, state);
        Assert.Null(state.Leases[0].Groups);
        Assert.Null(state.Waiters[0].Groups);
        Assert.Equal(0, state.LastReleaseSeq);
        Assert.Empty(state.Resources!);
        Assert.Empty(state.History!);
    }

    [Fact]
    public void DirectoryWithVersion1SnapshotOpens()
    {
        File.WriteAllBytes(_dir.Snapshot(9), Convert.FromHexString(V1SnapshotHex));

        using var store = DataStore.Open(_dir.Dir);

        Assert.Equal(9, store.Report.SnapshotIndex);
        Assert.Equal(0, store.Report.RecordsReplayed);
        Assert.Equal(10, store.NextIndex);
        // Restore binds the lease to its session (LeaseCount 1), which a hand-built Session cannot show.
        StateAssert.EqualWithHashedTokens(LockEngine.Restore(V1State).Capture(), store.Engine.Capture());
        Assert.Equal(1, store.Engine.GetSession(1)!.LeaseCount);
        Assert.Equal(0, store.Engine.DeclaredCount);
        Assert.Empty(store.Engine.History);
    }

    [Fact]
    public void Version1SnapshotFollowedByNewCommandsOpensAndIsRewrittenAsVersion5()
    {
        File.WriteAllBytes(_dir.Snapshot(9), Convert.FromHexString(V1SnapshotHex));
        EngineState live;
        using (var d = new StoreDriver(_dir.Dir))
        {
            Assert.Equal(10, d.Store.NextIndex);
            Assert.Equal(ErrorCode.None, ((OperationResult<DeclaredResource>)d.Apply(
                new DeclareResource { Now = Cmd.T0 + 300, Path = Cmd.P("/pool/r1"), Attributes = "{\"os\":\"a\"}" })!).Error);
            var lease = Cmd.Granted(d.Apply(new AcquireLease
            {
                Now = Cmd.T0 + 301, Paths = [], Groups = [new PoolGroup(Cmd.P("/pool"), "{\"os\":\"a\"}", 1)], Owner = "ci", Token = 0xD1,
            }));
            Assert.Equal(["/pool/r1"], lease.Paths.Select(p => p.Value));
            d.Apply(new ReleaseLease { Now = Cmd.T0 + 302, LeaseId = lease.Id, Token = 0xD1 });
            live = d.Engine.Capture();
        }
        // The revision counts on from the old snapshot's 0: declared, granted, released.
        Assert.Equal(3, live.Revision);

        // Replayed over the version 1 snapshot (its tokens hashed as it is read).
        using (var store = DataStore.Open(_dir.Dir))
        {
            Assert.Equal(9, store.Report.SnapshotIndex);
            Assert.Equal(3, store.Report.RecordsReplayed);
            StateAssert.Equal(live, store.Engine.Capture());
        }

        using (var d = new StoreDriver(_dir.Dir))
        {
            var index = d.Snapshot();
            Assert.Equal(12, index);
            Assert.Equal("05000000", Convert.ToHexString(File.ReadAllBytes(_dir.Snapshot(index)).AsSpan(8, 4)));
        }
        using var reopened = DataStore.Open(_dir.Dir);
        Assert.Equal(0, reopened.Report.RecordsReplayed);
        StateAssert.Equal(live, reopened.Engine.Capture());
        Assert.Single(reopened.Engine.History);
    }
}

/// <summary>Counts in a version 2 snapshot whose checksum matches but whose values are impossible: corruption, never a crash.</summary>
public class SnapshotCountTests
{
    public static TheoryData<string, string, string> BadCounts => new()
    {
        // what, the bytes to find in the golden snapshot (the count first), the count to put there
        { "group count huge", "01000000" + "060000002F706F6F6C0C000000", "FFFFFF7F" },
        { "group count below -1", "01000000" + "060000002F706F6F6C0C000000", "FEFFFFFF" },
        { "chosen count huge", "01000000" + "090000002F706F6F6C2F72310A68", "FFFFFF7F" },
        { "requirement count huge", "01000000" + "0B0000007B226F73223A2262227D", "FFFFFF7F" },
        { "requirement count below -1", "01000000" + "0B0000007B226F73223A2262227D", "FEFFFFFF" },
        { "resource count huge", "02000000" + "0C0000002F706F6F6C2F636166C3A9", "FFFFFF7F" },
        { "history count huge", "02000000" + "0100000000000000" + "0100000000000000" + "030000006369", "FFFFFF7F" },
    };

    [Theory]
    [MemberData(nameof(BadCounts))]
    public void ImpossibleCountIsCorruption(string what, string find, string count)
    {
        var hex = GoldenSnapshotTests.V2SnapshotHex;
        var at = hex.IndexOf(find, StringComparison.Ordinal);
        Assert.True(at >= 0 && at % 2 == 0 && hex.IndexOf(find, at + 1, StringComparison.Ordinal) < 0, what);
        var data = Convert.FromHexString(hex[..at] + count + hex[(at + count.Length)..]);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(data.Length - 4), Crc32C.Compute(data.AsSpan(0, data.Length - 4)));

        var ex = Assert.Throws<CorruptDataException>(() => SnapshotCodec.Read("bad.snap", data));

        Assert.Contains("do not parse: bad count " + System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(Convert.FromHexString(count)), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadResourceAttributesAreCorruption()
    {
        var hex = GoldenSnapshotTests.V2SnapshotHex.Replace("110000007B226F73223A2262222C226E223A317D", "110000005B226F73223A2262222C226E223A315D", StringComparison.Ordinal);
        var data = Convert.FromHexString(hex);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(data.Length - 4), Crc32C.Compute(data.AsSpan(0, data.Length - 4)));

        var ex = Assert.Throws<CorruptDataException>(() => SnapshotCodec.Read("bad.snap", data));

        Assert.Contains("/pool/caf\u00e9", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadRequirementIsCorruption()
    {
        // {"os": "a"} becomes {"os"$ "a"}: not JSON.
        var hex = GoldenSnapshotTests.V2SnapshotHex.Replace("0C0000007B226F73223A202261227D", "0C0000007B226F732224202261227D", StringComparison.Ordinal);
        var data = Convert.FromHexString(hex);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(data.Length - 4), Crc32C.Compute(data.AsSpan(0, data.Length - 4)));

        var ex = Assert.Throws<CorruptDataException>(() => SnapshotCodec.Read("bad.snap", data));

        Assert.Contains("do not parse", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadEndReasonIsCorruption()
    {
        var hex = GoldenSnapshotTests.V2SnapshotHex;
        var data = Convert.FromHexString(hex);
        // The last history entry's reason is the byte before the checksum.
        Assert.Equal(2, data[^5]);
        data[^5] = 4;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(data.Length - 4), Crc32C.Compute(data.AsSpan(0, data.Length - 4)));

        var ex = Assert.Throws<CorruptDataException>(() => SnapshotCodec.Read("bad.snap", data));

        Assert.Contains("4 is not an end reason", ex.Message, StringComparison.Ordinal);
    }
}

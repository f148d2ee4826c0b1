using Leasehold.Core;

namespace Leasehold.Storage.Tests;

/// <summary>
/// A byte-for-byte pin of a tiny snapshot (one session, one lease, one waiter), produced by an independent
/// encoder from the format description. A change here means old snapshots no longer read.
/// </summary>
public class GoldenSnapshotTests : IDisposable
{
    private const string SnapshotHex =
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

    private readonly TempDir _dir = new();

    private static EngineState GoldenState => new(
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

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void EncodesByteForByte()
    {
        var bytes = SnapshotCodec.Encode(9, GoldenState);
        Assert.Equal(SnapshotHex, Convert.ToHexString(bytes.WrittenSpan));
    }

    [Fact]
    public void GoldenBytesDecode()
    {
        var (index, state) = SnapshotCodec.Read("golden.snap", Convert.FromHexString(SnapshotHex));
        Assert.Equal(9, index);
        StateAssert.Equal(GoldenState, state);
    }

    [Fact]
    public void DirectoryWithGoldenSnapshotOpens()
    {
        File.WriteAllBytes(_dir.Snapshot(9), Convert.FromHexString(SnapshotHex));

        using var store = DataStore.Open(_dir.Dir);

        Assert.Equal(9, store.Report.SnapshotIndex);
        Assert.Equal(0, store.Report.RecordsReplayed);
        Assert.Equal(10, store.NextIndex);
        // Restore binds the lease to its session (LeaseCount 1), which a hand-built Session cannot show.
        StateAssert.Equal(LockEngine.Restore(GoldenState).Capture(), store.Engine.Capture());
        Assert.Equal(1, store.Engine.GetSession(1)!.LeaseCount);
        Assert.Equal(GoldenState.Leases.Select(StateAssert.Describe), store.Engine.Capture().Leases.Select(StateAssert.Describe));
        Assert.Equal(GoldenState.Waiters.Select(StateAssert.Describe), store.Engine.Capture().Waiters.Select(StateAssert.Describe));
    }
}

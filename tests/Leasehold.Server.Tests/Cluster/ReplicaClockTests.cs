using Leasehold.Core;
using Leasehold.Server.Cluster;
using Leasehold.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Leasehold.Server.Tests.Cluster;

/// <summary>
/// The time a cluster node's new leadership continues from (<see cref="ReplicaStateMachine.Fork"/>): never earlier than
/// what the committed state records, whatever the wall clock says.
/// </summary>
public sealed class ReplicaClockTests : IDisposable
{
    private static readonly DateTimeOffset Wall = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("leasehold-replica-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void A_node_started_on_a_snapshot_continues_from_its_latest_time_when_the_wall_clock_went_back()
    {
        // The snapshot was taken an hour "ahead" of this node's wall clock (the clock was set back while it was down).
        var then = Wall.ToUnixTimeMilliseconds() + 3_600_000;
        var leases = new LockEngine();
        var granted = leases.Acquire(Acquire("/lab/a", then, ttlMs: 60_000));
        Assert.NotNull(granted.Lease);
        var snapshot = SnapshotCodec.Encode(1, leases.Capture());

        var time = new FakeTimeProvider(Wall);
        var replica = new ReplicaStateMachine(_dir, new EngineLimits(), 1_000, time, NullLogger.Instance);
        replica.Restore("snapshot", snapshot.WrittenSpan);

        var (engine, clock) = replica.Fork();
        Assert.Equal(then, clock.Now);
        // The lease keeps its minute: 59 s on, it is still held; a minute on, it has expired.
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(then + 59_000, clock.Now);
        Assert.Single(engine.Leases);
        Assert.True(granted.Lease!.ExpiresAt > clock.Now);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(granted.Lease.ExpiresAt, clock.Now);
    }

    [Fact]
    public void A_node_started_on_a_snapshot_older_than_the_wall_clock_takes_the_wall_clock()
    {
        var then = Wall.ToUnixTimeMilliseconds() - 3_600_000;
        var leases = new LockEngine();
        Assert.NotNull(leases.Acquire(Acquire("/lab/a", then, ttlMs: 0)).Lease);
        var time = new FakeTimeProvider(Wall);
        var replica = new ReplicaStateMachine(_dir, new EngineLimits(), 1_000, time, NullLogger.Instance);
        replica.Restore("snapshot", SnapshotCodec.Encode(1, leases.Capture()).WrittenSpan);

        Assert.Equal(Wall.ToUnixTimeMilliseconds(), replica.Fork().Clock.Now);
    }

    [Fact]
    public void A_session_given_the_grace_of_a_recovery_does_not_put_the_time_line_ahead()
    {
        // At "then", a server recovered: its lease got a full ttl from then, its one-second session the 15 s grace.
        var then = Wall.ToUnixTimeMilliseconds() + 3_600_000;
        var state = new LockEngine();
        Assert.NotNull(state.Open(new OpenSession { Now = then - 500, TtlMs = 1_000, Owner = "test", Token = 2 }).Value);
        Assert.NotNull(state.Acquire(Acquire("/lab/a", then - 500, ttlMs: 60_000)).Lease);
        state.Recover(new Recover { Now = then, SessionGraceMs = 15_000 });
        Assert.Equal(then + 15_000, Assert.Single(state.Sessions).ExpiresAt);

        var time = new FakeTimeProvider(Wall);
        var replica = new ReplicaStateMachine(_dir, new EngineLimits(), 1_000, time, NullLogger.Instance);
        replica.Restore("snapshot", SnapshotCodec.Encode(1, state.Capture()).WrittenSpan);

        // The lease's renewal at "then" is the latest time recorded: not the session's deadline less its ttl (14 s on).
        Assert.Equal(then, replica.Fork().Clock.Now);
    }

    private static AcquireLease Acquire(string path, long now, long ttlMs)
    {
        Assert.True(ResourcePath.TryParse(path, out var parsed, out var error), error);
        return new AcquireLease { Now = now, Paths = [parsed], TtlMs = ttlMs, Owner = "test", Token = 1 };
    }
}

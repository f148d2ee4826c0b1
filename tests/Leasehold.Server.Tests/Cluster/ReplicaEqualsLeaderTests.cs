using System.Buffers;
using Leasehold.Core;
using Leasehold.Server.Cluster;
using Leasehold.Storage;
using Leasehold.Storage.Tests;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Leasehold.Server.Tests.Cluster;

/// <summary>
/// A cluster node's state machine against its leader, on the store's seeded random workload (every kind of
/// command, pools with recorded choices, sessions, drains, expiry) with leader changes among them: the leader decides
/// each command on its engine as the writer does (recording the pool choices it made), its batches travel as cluster
/// log entries (<see cref="ClusterEntry"/>), and <see cref="ReplicaStateMachine"/>s apply them in order; one of them
/// joins late, from a snapshot of the leader's state and the entries after it. Every follower must be in exactly the
/// leader's state whenever they have applied the same entries. A failure names the seed and step.
/// </summary>
public sealed class ReplicaEqualsLeaderTests(ITestOutputHelper output) : IDisposable
{
    private const int Steps = 4000;
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("leasehold-replica-model-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Theory]
    [InlineData(1)]
    [InlineData(424_242)]
    [InlineData(20_261_206)]
    public void Followers_applying_the_leaders_entries_are_in_the_leaders_state(int seed)
    {
        var limits = new EngineLimits { HistorySize = 50 };
        var work = new RandomWorkload(seed);
        var choices = new Random(seed ^ 0x2545F491);
        var leader = new LockEngine(limits);
        var follower = Replica("follower", limits);
        ReplicaStateMachine? late = null;
        var batch = new LogBuffer();
        long index = 0;
        long entry = 0;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);

        void Ship()
        {
            if (batch.Records == 0)
            {
                return;
            }
            var payload = new ReadOnlySequence<byte>(ClusterEntry.Commands([batch]));
            entry++;
            follower.Apply(payload, entry, 1);
            late?.Apply(payload, entry, 1);
            batch.Dispose();
            batch = new LogBuffer();
        }

        void Compare(int step)
        {
            Ship();
            var expected = leader.Capture();
            foreach (var (name, replica) in new[] { ("follower", follower), ("late follower", late) })
            {
                if (replica is null)
                {
                    continue;
                }
                try
                {
                    StateAssert.Equal(expected, replica.Read(e => e.Capture()));
                }
                catch (Xunit.Sdk.XunitException ex)
                {
                    throw new Xunit.Sdk.XunitException($"seed {seed}, after step {step}: the {name}'s state differs from the leader's\n{ex.Message}");
                }
            }
            counts["compared"] = counts.GetValueOrDefault("compared") + 1;
        }

        for (var step = 0; step < Steps; step++)
        {
            Command command = choices.Next(250) == 0
                ? new TakeOver { Now = work.Now, SessionGraceMs = choices.Next(1, 5_000) }
                : work.Next(leader);
            counts[command.GetType().Name] = counts.GetValueOrDefault(command.GetType().Name) + 1;
            // As the server's writer does: the record carries the pool choices the engine made.
            var before = leader.Changes;
            _ = leader.TakeChoices();
            leader.Apply(command);
            var made = leader.TakeChoices();
            leader.DiscardOutcomes();
            if (leader.Changes != before)
            {
                batch.Append(++index, made is null ? command : command with { Choices = made });
            }
            // Entries of one or several writer batches, as the leader's pipelining forms them.
            if (choices.Next(3) == 0)
            {
                Ship();
            }
            if (late is null && step >= Steps / 3 && choices.Next(200) == 0)
            {
                // A node that joins: the snapshot the leader sends, then the entries after it.
                Ship();
                late = Replica("late", limits);
                late.Restore("snapshot", SnapshotCodec.Encode(entry, leader.Capture()).WrittenSpan);
            }
            if (choices.Next(100) == 0)
            {
                Compare(step);
            }
        }
        Compare(Steps);
        output.WriteLine($"seed {seed}: {entry} entries, {index} records; " + string.Join(", ", counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value}")));
        Assert.NotNull(late);
        Assert.True(counts.GetValueOrDefault(nameof(TakeOver)) > 0, $"seed {seed}: no leader change in the run");
        Assert.True(leader.Capture().Leases.Count > 0 || counts.GetValueOrDefault(nameof(AcquireLease)) > 100, $"seed {seed}: the run granted little");
    }

    private ReplicaStateMachine Replica(string name, EngineLimits limits)
        => new(new DirectoryInfo(Path.Combine(_dir.FullName, name)), limits, long.MaxValue, new FakeTimeProvider(), NullLogger.Instance);
}

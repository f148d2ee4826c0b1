using Leasehold.Core;
using Leasehold.Core.Pools;
using Leasehold.Storage;

namespace Leasehold.Fuzz.Targets;

/// <summary>
/// Log segments and snapshots written by the real writer (<see cref="DataStore"/>, <see cref="LogBuffer"/>,
/// <see cref="SnapshotCodec"/>) from a workload that uses every command and every section of the format:
/// the seeds that the log and snapshot targets damage.
/// </summary>
internal static class ValidStorage
{
    /// <summary>The log segment's bytes, and the snapshot's bytes after each of a few points of the same workload.</summary>
    public static (byte[] Segment, int Records, byte[][] Snapshots) Build()
    {
        var dir = Path.Combine(Path.GetTempPath(), "leasehold-fuzz-seed-" + Guid.NewGuid().ToString("N"));
        try
        {
            var snapshots = new List<byte[]>();
            var records = 0;
            using (var store = DataStore.Open(dir))
            {
                var engine = store.Engine;
                using var buffer = new LogBuffer();
                var now = EngineFixture.T0;
                foreach (var command in Workload())
                {
                    now += 100;
                    var before = engine.Changes;
                    _ = engine.TakeChoices();
                    engine.Apply(command with { Now = now });
                    var choices = engine.TakeChoices();
                    engine.DiscardOutcomes();
                    if (engine.Changes != before)
                    {
                        buffer.Append(store.NextIndex++, choices is null ? command with { Now = now } : command with { Now = now, Choices = choices });
                        records++;
                    }
                    if (records % 7 == 6)
                    {
                        snapshots.Add(SnapshotCodec.Encode(store.NextIndex - 1, engine.Capture()).WrittenSpan.ToArray());
                    }
                }
                store.Write(buffer);
                store.Sync();
                snapshots.Add(SnapshotCodec.Encode(store.NextIndex - 1, engine.Capture()).WrittenSpan.ToArray());
            }
            var segment = File.ReadAllBytes(LogReader.Segments(dir).Single().Path);
            return (segment, records, [.. snapshots.DistinctBy(Convert.ToHexString)]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static IEnumerable<Command> Workload()
    {
        var pool = EngineFixture.Path("/pool");
        yield return new DeclareResource { Path = EngineFixture.Path("/pool/r0"), Attributes = """{"os": "android", "n": 1, "tags": ["a"]}""" };
        yield return new DeclareResource { Path = EngineFixture.Path("/pool/r1"), Attributes = """{"os": "ios", "id": "r1"}""" };
        yield return new DeclareResource { Path = EngineFixture.Path("/pool/r2"), Attributes = """{}""" };
        yield return new OpenSession { TtlMs = 30_000, Owner = "worker", Token = 11, Principal = "ci" };
        yield return new AcquireLease { Paths = [EngineFixture.Path("/lab/rack-2/phone-7")], Owner = "ci-42", TtlMs = 60_000, Token = 21, Principal = "ci" };
        yield return new AcquireLease { Paths = [EngineFixture.Path("/lab/rack-2")], Owner = "waiter", WaitMs = 10_000, Token = 22 };
        yield return new AcquireLease { Paths = [EngineFixture.Path("/shared/a"), EngineFixture.Path("/shared/b")], Mode = LockMode.Shared, Owner = "reader", SessionId = 1, Token = 23 };
        yield return new AcquireLease { Paths = [EngineFixture.Path("/sem")], Limit = 3, Owner = "s1", Token = 24, LockChildren = false };
        yield return new AcquireLease { Paths = [], Groups = [new PoolGroup(pool, """{"os": "android"}""", 1)], Owner = "pooler", TtlMs = 5_000, Token = 25 };
        yield return new AcquireLease { Paths = [], Groups = [new PoolGroup(pool, "{}", 1), new PoolGroup(pool, """{"id": {"$in": ["r1"]}}""", 1)], Owner = "two", Token = 26, Reuse = true };
        yield return new RenewLease { LeaseId = 1, Token = 21, TtlMs = 90_000 };
        yield return new KeepAliveSession { SessionId = 1, Token = 11 };
        // The administrators' commands and drains (log version 3, snapshot version 4).
        yield return new DrainPrefix { Path = EngineFixture.Path("/lab/rack-3"), Actor = "root" };
        yield return new AcquireLease { Paths = [EngineFixture.Path("/lab/rack-3/x")], Owner = "drained", WaitMs = 10_000, Token = 28, Principal = "lab" };
        yield return new OpenSession { TtlMs = 30_000, Owner = "worker-2", Token = 12, Principal = "lab" };
        yield return new EndSession { SessionId = 2, Actor = "root" };
        yield return new RevokeLease { LeaseId = 1, Actor = "root" };
        yield return new ReleaseLease { LeaseId = 4, Token = 25 };
        yield return new CancelWait { WaiterId = 1 };
        yield return new AcquireLease { Paths = [EngineFixture.Path("/lab/rack-2")], Owner = "waiter-2", WaitMs = 10_000, Token = 27 };
        yield return new Tick();
        yield return new CloseSession { SessionId = 1, Token = 11 };
        yield return new RemoveResource { Path = EngineFixture.Path("/pool/r2") };
        yield return new UndrainPrefix { Path = EngineFixture.Path("/lab/rack-3"), Actor = "root" };
        yield return new Recover { SessionGraceMs = 15_000 };
        yield return new DropWaiters();
        yield return new ReleaseLease { LeaseId = 1, Token = 21 };
    }
}

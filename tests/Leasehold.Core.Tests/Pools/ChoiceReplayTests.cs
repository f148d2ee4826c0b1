using System.Globalization;
using Leasehold.Core.Pools;
using Xunit.Abstractions;

namespace Leasehold.Core.Tests.Pools;

/// <summary>
/// Replay must not choose again. A log of pool traffic with <c>$regex</c> requirements, replayed by an engine
/// whose matching decides differently (as a match cut short under load used to, or another version's rules),
/// must give exactly the live state: the same holders of the same resources with the same fences.
/// </summary>
public class ChoiceReplayTests(ITestOutputHelper output) : PoolTestBase
{
    private const int Steps = 1500;

    private static readonly string[] Names = ["gpu-01", "gpu-02", "GPU-03", "cpu-1", "cpu-22", new string('a', 30) + "b", "x"];

    private static readonly string[] Requirements =
    [
        """{"name": {"$regex": "^gpu"}}""",
        """{"name": {"$regex": "/^GPU-0[1-3]$/i"}}""",
        """{"name": {"$regex": "^(a+)+$|b$"}}""",
        """{"name": {"$not": {"$regex": "^cpu"}}}""",
        """{"os": {"$regex": "a"}, "name": {"$regex": "\\d$"}}""",
        """{"name": {"$regex": "-"}}""",
        "{}",
    ];

    private static readonly string[] ResourceNames = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];

    public static TheoryData<int> Seeds() => SeededRuns.Seeds(1, 99, 4242);

    [Theory]
    [MemberData(nameof(Seeds))]
    public void A_replay_under_other_matching_gives_the_live_state(int seed)
    {
        output.WriteLine($"seed {seed} (replay: LEASEHOLD_SEED={seed})");
        var log = Run(seed);
        var live = ChoiceLog.Describe(log.Live);

        var (replayed, answers) = ChoiceLog.Replay(log.Records, ChoiceLog.UnderLoad(seed));
        if (Enumerable.Range(0, answers.Count).FirstOrDefault(i => answers[i] != log.Answers[i], -1) is var first and >= 0)
        {
            var record = log.Records[first];
            output.WriteLine($"first difference at record {first}: {record with { Choices = null }}, choices "
                + (record.Choices is null ? "none" : string.Join(",", record.Choices.Select(c => $"{c.WaiterId}:{c.Decision}@{c.Pass}"))));
        }
        Assert.Equal(log.Answers, answers);
        Assert.Equal(live, ChoiceLog.Describe(replayed));

        // The other matching really decides differently: without the logged choices the replay goes elsewhere.
        var (rechosen, _) = ChoiceLog.Replay(log.Records.Select(c => c with { Choices = null }), ChoiceLog.UnderLoad(seed));
        Assert.NotEqual(live, ChoiceLog.Describe(rechosen));

        var decisions = log.Records.SelectMany(c => c.Choices ?? []).GroupBy(c => c.Decision).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine($"{log.Records.Count} records; " + string.Join(", ", decisions.Select(d => $"{d.Key} {d.Value}")));
        foreach (var decision in Enum.GetValues<PoolDecision>())
        {
            Assert.True(decisions.GetValueOrDefault(decision) > 0, $"seed {seed}: the run never logged a {decision} choice");
        }
        Assert.Contains(log.Records, c => c is not AcquireLease && c.Choices is { Length: > 0 } choices && choices.Any(x => x.Decision == PoolDecision.Granted));
    }

    /// <summary>The story: the client told it holds /d/a (fence 1) keeps /d/a after the replay, and nobody else gets it.</summary>
    [Fact]
    public void The_first_holder_keeps_its_resource_when_replay_would_match_otherwise()
    {
        var log = new ChoiceLog();
        log.Apply(new DeclareResource { Now = Now, Path = P("/d/a"), Attributes = """{"name": "node-1"}""" });
        log.Apply(new DeclareResource { Now = Now, Path = P("/d/b"), Attributes = """{"name": "node-2"}""" });
        var first = (AcquireResult)log.Apply(PoolAcquire("""{"name": {"$regex": "^node-"}}""", owner: "one", waitMs: 0))!;
        var second = (AcquireResult)log.Apply(PoolAcquire("""{"name": {"$regex": "^node-"}}""", owner: "two", waitMs: 0))!;
        Assert.Equal(["/d/a"], PathsOf(first.Lease!));
        Assert.Equal(1, first.Lease!.Fence);
        Assert.Equal(["/d/b"], PathsOf(second.Lease!));

        // Replayed where /d/a no longer matches (before, a timed-out match said so under load).
        var (replayed, _) = ChoiceLog.Replay(log.Records, (resource, requirement) => resource.Path.Value != "/d/a" && requirement.Matches(resource.Attributes));
        var leases = replayed.Leases.OrderBy(l => l.Id).ToList();
        Assert.Equal(["/d/a"], PathsOf(leases[0]));
        Assert.Equal(1, leases[0].Fence);
        Assert.Equal("one", leases[0].Owner);
        Assert.Equal(["/d/b"], PathsOf(leases[1]));
        Assert.Equal(ChoiceLog.Describe(log.Live), ChoiceLog.Describe(replayed));
    }

    /// <summary>A logged grant of a resource someone holds cannot be a replay of the live run: it stops recovery.</summary>
    [Fact]
    public void A_logged_grant_of_a_held_resource_stops_the_replay()
    {
        var log = new ChoiceLog();
        log.Apply(new DeclareResource { Now = Now, Path = P("/d/a"), Attributes = """{"name": "node-1"}""" });
        log.Apply(PoolAcquire("""{"name": {"$regex": "node"}}""", owner: "one", waitMs: 0));
        var grant = log.Records[^1];
        Assert.NotNull(grant.Choices);

        var error = Assert.Throws<InvalidDataException>(() => ChoiceLog.Replay([.. log.Records, grant with { }], rule: null));
        Assert.Equal("replay went off the logged run: the log grants /d/a, which is held here", error.Message);
    }

    /// <summary>
    /// A pattern that backtracks catastrophically (<c>(a+)+</c> against "aaa…ab") is matched in linear time: the
    /// answer is the pattern's, on every resource, not "no match" because a time budget ran out. (Before, each of
    /// these 100 matches gave up after 100 ms and the request failed with no-match.)
    /// </summary>
    [Fact]
    public void Catastrophic_patterns_get_the_right_answer_on_every_resource()
    {
        var name = new string('a', 30) + "b";
        for (var i = 0; i < 100; i++)
        {
            Declare($"/big/r{i:D3}", $$"""{"name": "{{name}}"}""");
        }
        var lease = Granted(Take("/big", """{"name": {"$regex": "^(a+)+$|b$"}}""", count: 100));
        Assert.Equal(100, lease.Paths.Length);

        var none = Take("/big", """{"name": {"$regex": "^(a+)+$"}}""");
        Assert.Equal(ErrorCode.NoMatch, none.Error);
        Assert.StartsWith("0 declared resource(s) under /big match", none.Detail, StringComparison.Ordinal);
    }

    /// <summary>A requirement this version refuses, found in stored state, is kept with its text and matches nothing.</summary>
    [Fact]
    public void A_stored_requirement_this_version_refuses_is_restored_as_matching_nothing()
    {
        var group = new PoolGroup(P("/d"), """{"name": {"$regex": "a(?=b)"}}""", 1);
        Assert.False(GroupClaim.TryCreate(group, out _, out var error));
        Assert.Contains("not supported", error, StringComparison.Ordinal);
        var restored = GroupClaim.Restore(group);
        Assert.Equal("""{"name":{"$regex":"a(?=b)"}}""", restored.Requirement.Text);
        Assert.False(restored.Requirement.Matches(System.Text.Json.JsonDocument.Parse("""{"name": "ab"}""").RootElement));
    }

    private AcquireLease PoolAcquire(string require, string? owner, long waitMs, int count = 1) => new()
    {
        Now = Now,
        Paths = [],
        Groups = [new PoolGroup(P("/d"), require, count)],
        Owner = owner,
        WaitMs = waitMs,
        Token = NewToken(),
    };

    /// <summary>Seeded traffic on /d: pool requests with regex requirements, releases, time, cancels, declarations, path locks.</summary>
    private static ChoiceLog Run(int seed)
    {
        var rng = new Random(seed);
        var log = new ChoiceLog();
        var now = 1_700_000_000_000L;
        UInt128 token = 0;
        foreach (var resource in ResourceNames.Take(6))
        {
            log.Apply(Declaration(resource));
        }
        for (var step = 0; step < Steps; step++)
        {
            now += rng.Next(0, 40);
            var roll = rng.Next(100);
            var engine = log.Live;
            if (roll < 40)
            {
                var groups = Enumerable.Range(0, rng.Next(100) < 75 ? 1 : 2)
                    .Select(_ => new PoolGroup(P("/d"), Requirements[rng.Next(Requirements.Length)], rng.Next(100) < 70 ? 1 : 2))
                    .ToArray();
                var waitMs = rng.Next(100) < 35 ? 0 : rng.Next(50, 600);
                var ttlMs = rng.Next(100) < 50 ? 0 : rng.Next(100, 900);
                var owner = rng.Next(100) < 30 ? null : "o" + rng.Next(3).ToString(CultureInfo.InvariantCulture);
                var reuse = rng.Next(100) < 25;
                log.Apply(new AcquireLease
                {
                    Now = now,
                    Paths = [],
                    Groups = groups,
                    WaitMs = waitMs,
                    TtlMs = ttlMs,
                    Owner = owner,
                    Reuse = reuse,
                    // As the server does: a reuse request carries its owner's name-keyed token.
                    Token = reuse && owner is not null ? OwnerTokens.For(owner) : ++token,
                });
            }
            else if (roll < 60 && engine.Leases.Count > 0)
            {
                var lease = engine.Leases.OrderBy(l => l.Id).ElementAt(rng.Next(engine.Leases.Count));
                log.Apply(new ReleaseLease { Now = now, LeaseId = lease.Id, Token = lease.Token });
            }
            else if (roll < 70)
            {
                now += rng.Next(0, 400);
                log.Apply(new Tick { Now = now });
            }
            else if (roll < 76 && engine.QueueLength > 0)
            {
                var waiter = engine.Queue.ElementAt(rng.Next(engine.QueueLength));
                log.Apply(new CancelWait { Now = now, WaiterId = waiter.Id });
            }
            else if (roll < 88)
            {
                log.Apply(Declaration(ResourceNames[rng.Next(ResourceNames.Length)]));
            }
            else if (roll < 93)
            {
                log.Apply(new RemoveResource { Now = now, Path = P("/d/" + ResourceNames[rng.Next(ResourceNames.Length)]) });
            }
            else
            {
                // Path locks are blocked by the resources pool waiters claim: those claims must replay exactly too.
                log.Apply(new AcquireLease
                {
                    Now = now,
                    Paths = [P("/d/" + ResourceNames[rng.Next(ResourceNames.Length)])],
                    WaitMs = rng.Next(100) < 50 ? 0 : rng.Next(50, 400),
                    TtlMs = rng.Next(100, 600),
                    Token = ++token,
                });
            }
        }
        return log;

        DeclareResource Declaration(string resource) => new()
        {
            Now = now,
            Path = P("/d/" + resource),
            Attributes = string.Create(CultureInfo.InvariantCulture,
                $$"""{"name": "{{Names[rng.Next(Names.Length)]}}", "os": "{{(rng.Next(2) == 0 ? "a" : "b")}}"}"""),
        };
    }
}

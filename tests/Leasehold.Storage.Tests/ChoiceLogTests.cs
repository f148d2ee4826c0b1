using System.Buffers;
using System.Globalization;
using Leasehold.Core;
using Leasehold.Core.Pools;
using Xunit.Abstractions;

namespace Leasehold.Storage.Tests;

/// <summary>
/// The pool choices a command's record carries: their byte form, pinned; records without them (written
/// before) still read; and a log on disk, replayed by an engine whose matching decides otherwise (as under
/// load, when a <c>$regex</c> match could time out), gives exactly the state the live engine had.
/// </summary>
public class ChoiceLogTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ChoicesAreAnOptionalTrailerWithAPinnedLayout()
    {
        var command = new ReleaseLease
        {
            Now = 2,
            LeaseId = 3,
            Token = 4,
            Choices =
            [
                new PoolChoice(7, PoolDecision.Granted, 2, [[1, 0], [5]], []),
                new PoolChoice(8, PoolDecision.Refitted, 0, [], [0b101]),
            ],
        };
        var buffer = new ArrayBufferWriter<byte>();
        CommandCodec.Write(buffer, command);
        const string Release = "03" + "0200000000000000" + "0300000000000000" + "04000000000000000000000000000000";
        const string Choices = "02000000"
            + "0700000000000000" + "00" + "02000000" + "02000000" + "02000000" + "01000000" + "00000000" + "01000000" + "05000000" + "00000000"
            + "0800000000000000" + "02" + "00000000" + "00000000" + "01000000" + "05";
        Assert.Equal(Release + Choices, Convert.ToHexString(buffer.WrittenSpan));

        var read = CommandCodec.Read(buffer.WrittenSpan);
        Assert.Equal(command with { Choices = null }, read with { Choices = null });
        Assert.Equal(Describe(command.Choices), Describe(read.Choices!));

        // Written before choices were logged: no trailer, no choices (replay decides, as it did then).
        Assert.Null(CommandCodec.Read(Convert.FromHexString(Release)).Choices);
        // An empty list is kept apart from none: pool waiters were considered and none was granted.
        var empty = new ArrayBufferWriter<byte>();
        CommandCodec.Write(empty, new Tick { Now = 1, Choices = [] });
        Assert.Equal("08" + "0100000000000000" + "00000000", Convert.ToHexString(empty.WrittenSpan));
        Assert.Equal([], CommandCodec.Read(empty.WrittenSpan).Choices!);
    }

    [Theory]
    [InlineData("FFFFFFFF", "impossible count -1")]
    [InlineData("01000000" + "0700000000000000" + "09" + "00000000" + "00000000" + "00000000", "9 is not a pool decision")]
    [InlineData("01000000" + "0700000000000000" + "00" + "00000000" + "01000000" + "05000000" + "00000000", "impossible count 5")]
    public void MalformedChoicesAreAFormatException(string trailer, string message)
    {
        var ex = Assert.Throws<FormatException>(() => CommandCodec.Read(Convert.FromHexString("08" + "0100000000000000" + trailer)));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A snapshot an older version wrote, holding a requirement this one refuses (a lookahead), still loads:
    /// the lease keeps its resources and its requirement's text, which matches nothing now.
    /// </summary>
    [Fact]
    public void ASnapshotWithARequirementThisVersionRefusesStillLoads()
    {
        var refused = System.Text.Encoding.UTF8.GetBytes("""{"os":{"$regex":"a(?=b)"}}""");
        var hex = GoldenSnapshotTests.V2SnapshotHex.Replace("0C0000007B226F73223A202261227D",
            Convert.ToHexString(BitConverter.GetBytes(refused.Length + 1)) + Convert.ToHexString(refused), StringComparison.Ordinal);
        Assert.NotEqual(GoldenSnapshotTests.V2SnapshotHex, hex);
        var data = Convert.FromHexString(hex);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(data.Length - 4), Crc32C.Compute(data.AsSpan(0, data.Length - 4)));

        var (_, state) = SnapshotCodec.Read("old.snap", data);

        var group = state.Leases.Concat<Claim>(state.Waiters).SelectMany(c => c.Groups ?? []).Single(g => g.Group.Require == """{"os":{"$regex":"a(?=b)"}}""");
        Assert.Equal("""{"os":{"$regex":"a(?=b)"}}""", group.Requirement.Text);
        Assert.False(group.Requirement.Matches(System.Text.Json.JsonDocument.Parse("""{"os":"ab"}""").RootElement));
        var engine = LockEngine.Restore(state);
        Assert.Equal(state.Leases.Count, engine.Leases.Count);
    }

    /// <param name="seed">Seeds the traffic and which matches are lost "under load" in the replay.</param>
    [Theory]
    [InlineData(3)]
    [InlineData(20_261_205)]
    public void ALogReplayedUnderOtherMatchingRecoversTheLiveState(int seed)
    {
        output.WriteLine($"seed {seed}");
        var rng = new Random(seed);
        using (var driver = new StoreDriver(_dir.Dir))
        {
            var now = Cmd.T0;
            UInt128 token = 0;
            for (var i = 0; i < 8; i++)
            {
                driver.Apply(Declare(i, now, rng));
            }
            for (var step = 0; step < 400; step++)
            {
                now += rng.Next(1, 50);
                var engine = driver.Engine;
                var roll = rng.Next(100);
                if (roll < 50)
                {
                    driver.Apply(new AcquireLease
                    {
                        Now = now,
                        Paths = [],
                        Groups = [new PoolGroup(Cmd.P("/d"), Requirements[rng.Next(Requirements.Length)], rng.Next(1, 3))],
                        WaitMs = rng.Next(2) == 0 ? 0 : rng.Next(50, 500),
                        TtlMs = rng.Next(2) == 0 ? 0 : rng.Next(100, 800),
                        Token = ++token,
                    });
                }
                else if (roll < 75 && engine.Leases.Count > 0)
                {
                    var lease = engine.Leases.OrderBy(l => l.Id).ElementAt(rng.Next(engine.Leases.Count));
                    driver.Apply(new ReleaseLease { Now = now, LeaseId = lease.Id, Token = lease.Token });
                }
                else if (roll < 90)
                {
                    driver.Apply(new Tick { Now = now += rng.Next(0, 300) });
                }
                else
                {
                    driver.Apply(Declare(rng.Next(10), now, rng));
                }
            }
            driver.Flush();
            var live = driver.Engine.Capture();

            // Another engine, matching "under load": a third of the (resource, requirement) matches are lost.
            var replayed = Replay(rng.Next(), choices: true);
            StateAssert.Equal(live, replayed.Capture());

            // The same log without its choices goes elsewhere: the comparison above has teeth.
            var rechosen = Replay(rng.Next(), choices: false);
            Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => StateAssert.Equal(live, rechosen.Capture()));
        }
    }

    private static readonly string[] Requirements =
    [
        """{"name": {"$regex": "^gpu-\\d+$"}}""",
        """{"name": {"$regex": "/GPU/i"}}""",
        """{"name": {"$regex": "^(a+)+$|b$"}}""",
        """{"name": {"$not": {"$regex": "^cpu"}}}""",
    ];

    private static DeclareResource Declare(int i, long now, Random rng) => new()
    {
        Now = now,
        Path = Cmd.P("/d/r" + i.ToString(CultureInfo.InvariantCulture)),
        Attributes = rng.Next(4) switch
        {
            0 => """{"name": "gpu-1"}""",
            1 => """{"name": "GPU-22"}""",
            2 => """{"name": "cpu-3"}""",
            _ => """{"name": "aaaaaaaaaaaaaaaaaaaaaaaaab"}""",
        },
    };

    private LockEngine Replay(int salt, bool choices)
    {
        var engine = new LockEngine
        {
            MatchRule = (resource, requirement) => Hash(resource.Path.Value + "\n" + requirement.Text, salt) % 3 != 0
                && requirement.Matches(resource.Attributes),
        };
        LogReader.Replay(_dir.Dir, 0, (_, command) => engine.Apply(choices ? command : command with { Choices = null }));
        return engine;
    }

    /// <summary>FNV-1a, salted: the same lost matches on every run of a seed.</summary>
    private static uint Hash(string text, int salt)
    {
        var hash = 2166136261u ^ (uint)salt;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return hash;
    }

    private static string Describe(PoolChoice[] choices)
        => string.Join("; ", choices.Select(c => $"{c.WaiterId} {c.Decision} {c.Pass} [{string.Join(" | ", c.Chosen.Select(g => string.Join(",", g)))}] {Convert.ToHexString(c.Candidates)}"));
}

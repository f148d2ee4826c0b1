using System.Buffers;
using Leasehold.Core;
using Leasehold.Core.Pools;

namespace Leasehold.Storage.Tests;

/// <summary>Every command type survives encode + decode with every field, through the codec and through a framed record.</summary>
public class CommandRoundTripTests
{
    private static readonly UInt128 BigToken = UInt128.MaxValue - 12345;

    public static TheoryData<string, Command> Commands => new()
    {
        { "acquire, all fields", new AcquireLease
            {
                Now = Cmd.T0, Paths = Cmd.Ps("/a/b", "/c"), Mode = LockMode.Exclusive, Limit = 1_000_000, TtlMs = 366L * 24 * 3600 * 1000,
                WaitMs = 24L * 3600 * 1000, SessionId = long.MaxValue, LockParents = false, LockChildren = true, Owner = "job-42", Token = BigToken,
            }
        },
        { "acquire, defaults, null owner", new AcquireLease { Paths = Cmd.Ps("/"), Token = 0 } },
        { "acquire, shared, empty owner", new AcquireLease
            {
                Now = -1, Paths = Cmd.Ps("/x"), Mode = LockMode.Shared, LockParents = false, LockChildren = false, Owner = "", Token = 7,
            }
        },
        { "acquire, unicode", new AcquireLease
            {
                Now = Cmd.T0, Paths = Cmd.Ps("/caf\u00e9/\u65e5\u672c\u8a9e", "/\U0001F600/\u0391\u03b2", "/Caf\u00e9"),
                Owner = "\u00fcber \U0001F512 \u4eba", Token = 1, TtlMs = 1,
            }
        },
        { "acquire, 64 paths", new AcquireLease { Now = 5, Paths = [.. Enumerable.Range(0, 64).Select(i => Cmd.P($"/p/{i}"))], Token = 3 } },
        { "acquire, long owner", new AcquireLease { Now = 5, Paths = Cmd.Ps("/x"), Owner = new string('\u00e9', 256), Token = 3 } },
        { "renew", new RenewLease { Now = Cmd.T0, LeaseId = 99, Token = BigToken, TtlMs = 5_000 } },
        { "renew, keep ttl", new RenewLease { Now = Cmd.T0, LeaseId = 1, Token = 2, TtlMs = 0 } },
        { "release", new ReleaseLease { Now = Cmd.T0, LeaseId = long.MaxValue, Token = BigToken } },
        { "open session", new OpenSession { Now = Cmd.T0, TtlMs = 30_000, Owner = "svc \u2603", Token = BigToken } },
        { "open session, null owner", new OpenSession { Now = Cmd.T0, TtlMs = 1_000, Owner = null, Token = 1 } },
        { "keepalive", new KeepAliveSession { Now = Cmd.T0, SessionId = 12, Token = BigToken } },
        { "close session", new CloseSession { Now = Cmd.T0, SessionId = 13, Token = BigToken } },
        { "cancel wait", new CancelWait { Now = Cmd.T0, WaiterId = 77 } },
        { "tick", new Tick { Now = Cmd.T0 + 123 } },
        { "drop waiters", new DropWaiters { Now = Cmd.T0 + 9 } },
        { "recover", new Recover { Now = Cmd.T0, SessionGraceMs = 15_000 } },
        { "take over", new TakeOver { Now = Cmd.T0, SessionGraceMs = 15_000 } },
        { "acquire from pools, several groups, reuse, unicode", new AcquireLease
            {
                Now = Cmd.T0, Paths = [], TtlMs = 366L * 24 * 3600 * 1000, WaitMs = 24L * 3600 * 1000, SessionId = long.MaxValue,
                LockParents = false, LockChildren = true, Owner = "\u00fcber \U0001F512 \u4eba", Token = BigToken, Reuse = true,
                Groups =
                [
                    new PoolGroup(Cmd.P("/pool/caf\u00e9"), "{\"os\":\"a\"}", 2),
                    new PoolGroup(Cmd.P("/\u65e5\u672c/\U0001F600"), "{\"n\": {\"$gt\": 2}, \"\u540d\": \"\u03b1\u03b2\"}", 1),
                    new PoolGroup(Cmd.P("/"), "{}", 1000),
                ],
            }
        },
        { "acquire from pools, one group, no reuse, null owner", new AcquireLease
            {
                Now = 1, Paths = [], Groups = [new PoolGroup(Cmd.P("/gpu"), "{\"n\":{\"$gt\":2}}", 1)], Reuse = false, Owner = null, Token = 0,
            }
        },
        { "acquire from pools, shared, limit, empty owner, paths too", new AcquireLease
            {
                Now = -1, Paths = Cmd.Ps("/x"), Mode = LockMode.Shared, Limit = 3, LockParents = false, LockChildren = false, Owner = "",
                Groups = [new PoolGroup(Cmd.P("/p"), "{\"os\":{\"$in\":[\"a\",\"b\"]}}", 2)], Reuse = true, Token = 7,
            }
        },
        { "acquire from pools, 16 groups", new AcquireLease
            {
                Now = 5, Paths = [], Token = 3,
                Groups = [.. Enumerable.Range(0, 16).Select(i => new PoolGroup(Cmd.P($"/pool/{i}"), $"{{\"i\":{i}}}", i + 1))],
            }
        },
        { "declare resource", new DeclareResource { Now = Cmd.T0, Path = Cmd.P("/pool/r1"), Attributes = "{\"os\":\"a\",\"n\":3}" } },
        { "declare resource, unicode, nested", new DeclareResource
            {
                Now = Cmd.T0 + 1, Path = Cmd.P("/pool/caf\u00e9/\U0001F600"),
                Attributes = "{\"\u540d\": \"\u03b1\u03b2 \U0001F512\", \"tags\": [\"x\", {\"y\": null}], \"n\": 2.5}",
            }
        },
        { "declare resource, root, empty", new DeclareResource { Now = -1, Path = Cmd.P("/"), Attributes = "{}" } },
        { "remove resource", new RemoveResource { Now = Cmd.T0, Path = Cmd.P("/pool/r1") } },
        { "acquire with a principal", new AcquireLease { Now = 5, Paths = Cmd.Ps("/x"), Owner = "o", Principal = "alice \u2603", Token = 3 } },
        { "acquire from pools with a principal", new AcquireLease
            {
                Now = 5, Paths = [], Groups = [new PoolGroup(Cmd.P("/gpu"), "{}", 1)], Principal = "ci-bot", Token = 3,
            }
        },
        { "open session with a principal", new OpenSession { Now = Cmd.T0, TtlMs = 1_000, Principal = "alice", Token = 1 } },
        { "revoke", new RevokeLease { Now = Cmd.T0, LeaseId = long.MaxValue, Actor = "root" } },
        { "revoke, anonymous", new RevokeLease { Now = Cmd.T0, LeaseId = 1, Actor = null } },
        { "end session", new EndSession { Now = Cmd.T0, SessionId = 7, Actor = "\u00fcber" } },
        { "drain", new DrainPrefix { Now = Cmd.T0, Path = Cmd.P("/lab/caf\u00e9"), Actor = "ops" } },
        { "drain root, anonymous", new DrainPrefix { Now = Cmd.T0, Path = Cmd.P("/"), Actor = null } },
        { "undrain", new UndrainPrefix { Now = Cmd.T0, Path = Cmd.P("/lab"), Actor = "ops" } },
        { "remove resource, unicode", new RemoveResource { Now = Cmd.T0 + 2, Path = Cmd.P("/\u65e5\u672c/\u8a9e/\U0001F600") } },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public void CodecRoundTrips(string name, Command command)
    {
        var buffer = new ArrayBufferWriter<byte>();
        CommandCodec.Write(buffer, command);
        AssertSame(name, command, CommandCodec.Read(buffer.WrittenSpan));
    }

    [Fact]
    public void FramedRecordsRoundTripThroughTheLog()
    {
        using var dir = new TempDir();
        var all = Commands.Select(row => (Command)row[1]).ToList();
        using (var buffer = new LogBuffer())
        {
            for (var i = 0; i < all.Count; i++)
            {
                buffer.Append(i + 1, all[i]);
            }
            File.WriteAllBytes(dir.Segment(1), [.. Convert.FromHexString(GoldenLogTests.SegmentHeaderHex), .. buffer.Written]);
        }

        var read = new List<(long, Command)>();
        var end = LogReader.Replay(dir.Dir, 0, (index, command) => read.Add((index, command)));

        Assert.Equal(all.Count + 1, end.NextIndex);
        Assert.Equal(0, end.TruncatedBytes);
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), read.Select(r => r.Item1));
        for (var i = 0; i < all.Count; i++)
        {
            AssertSame($"record {i + 1}", all[i], read[i].Item2);
        }
    }

    [Fact]
    public void EveryCommandTypeHasARoundTripCase()
    {
        var types = typeof(Command).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(Command)) && !t.IsAbstract)
            .Select(t => t.Name)
            .Order(StringComparer.Ordinal);
        var covered = Commands.Select(row => row[1].GetType().Name).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal(types, covered);
        // Every tag is written by some case (AcquireFromPools is an AcquireLease with groups), and every
        // tag but that one is named after its command type.
        var tags = Commands.Select(row =>
        {
            var buffer = new ArrayBufferWriter<byte>();
            CommandCodec.Write(buffer, (Command)row[1]);
            return (CommandCodec.Tag)buffer.WrittenSpan[0];
        });
        Assert.Equal(Enum.GetValues<CommandCodec.Tag>(), tags.Distinct().Order());
        Assert.Equal(types, Enum.GetNames<CommandCodec.Tag>().Where(n => n != nameof(CommandCodec.Tag.AcquireFromPools)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void LargeRecordGrowsTheBuffer()
    {
        var command = new AcquireLease
        {
            Now = 1,
            Paths = [.. Enumerable.Range(0, 64).Select(i => Cmd.P("/" + new string((char)('a' + (i % 26)), 200) + "/" + i))],
            Token = 9,
        };
        using var buffer = new LogBuffer();
        for (var i = 1; i <= 10; i++)
        {
            buffer.Append(i, command);
        }
        Assert.True(buffer.Length > 64 * 1024, $"{buffer.Length} bytes");
        var records = SegmentBytes.Records([.. new byte[LogFormat.SegmentHeaderSize], .. buffer.Written]);
        Assert.Equal(10, records.Count);
        AssertSame("last", command, CommandCodec.Read(buffer.Written.Slice(records[^1].Offset - LogFormat.SegmentHeaderSize + LogFormat.RecordHeaderSize, records[^1].Length - LogFormat.RecordHeaderSize)));
    }

    [Theory]
    [InlineData("00" + "0000000000000000", "unknown command tag 0")]
    [InlineData("EE" + "0000000000000000", "unknown command tag 238")]
    [InlineData("13" + "0000000000000000", "unknown command tag 19")]
    [InlineData("0B" + "0000000000000000" + "00000000" + "00" + "00000000" + "0000000000000000" + "0000000000000000" + "0000000000000000"
        + "01" + "01" + "00000000" + "00000000000000000000000000000000" + "00000000" + "00000000", "0 groups in one acquire")]
    [InlineData("0B" + "0000000000000000" + "00000000" + "00" + "00000000" + "0000000000000000" + "0000000000000000" + "0000000000000000"
        + "01" + "01" + "00000000" + "00000000000000000000000000000000" + "01000000" + "030000002F70" + "0300000067" + "01000000", "ends early")]
    [InlineData("0B" + "0000000000000000" + "00000000" + "00" + "00000000" + "0000000000000000" + "0000000000000000" + "0000000000000000"
        + "01" + "01" + "00000000" + "00000000000000000000000000000000" + "00000000" + "01000000" + "030000002F70" + "030000007B7D" + "01000000" + "02", "2 is not a boolean")]
    [InlineData("0C" + "0000000000000000" + "030000002F70", "ends early")]
    [InlineData("0C" + "0000000000000000" + "0300000070" + "030000007B7D", "bad path")]
    [InlineData("0D" + "0000000000000000" + "00000000", "bad path")]
    [InlineData("0D" + "0000000000000000" + "030000002F70" + "00", "1 bytes left")]
    [InlineData("08" + "0000000000000000" + "00", "1 bytes left")]
    [InlineData("03" + "00000000", "ends early")]
    public void MalformedPayloadIsAFormatException(string hex, string message)
    {
        var ex = Assert.Throws<FormatException>(() => CommandCodec.Read(Convert.FromHexString(hex)));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    private static void AssertSame(string name, Command expected, Command actual)
    {
        Assert.IsType(expected.GetType(), actual);
        if (expected is AcquireLease a)
        {
            var b = (AcquireLease)actual;
            Assert.Equal(a.Paths.Select(p => p.Value), b.Paths.Select(p => p.Value));
            Assert.Equal(a.Groups is null, b.Groups is null);
            Assert.Equal(
                (a.Groups ?? []).Select(g => (g.Pool.Value, g.Require, g.Count)),
                (b.Groups ?? []).Select(g => (g.Pool.Value, g.Require, g.Count)));
            Assert.True(a with { Paths = b.Paths, Groups = b.Groups } == b, $"{name}: {a} != {b}");
        }
        else
        {
            Assert.True(expected == actual, $"{name}: {expected} != {actual}");
        }
    }
}

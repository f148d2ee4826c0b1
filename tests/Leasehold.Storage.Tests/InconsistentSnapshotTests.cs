using Leasehold.Core;

namespace Leasehold.Storage.Tests;

/// <summary>
/// A snapshot whose checksum matches but whose contents contradict each other (found by the fuzzing harness,
/// docs/fuzzing.md) stops start-up with <see cref="CorruptDataException"/> naming the file, like any other damage.
/// </summary>
public sealed class InconsistentSnapshotTests
{
    [Fact]
    public void LeaseOfAMissingSessionIsCorruptData()
    {
        using var dir = new TempDir();
        var lease = new Lease { Id = 1, Token = 7, Fence = 1, Paths = Cmd.Ps("/a"), Owner = "o", SessionId = 99, AcquiredAt = Cmd.T0, ExpiresAt = long.MaxValue };
        var state = new EngineState(1, 0, 0, 1, [], [lease], []);
        File.WriteAllBytes(dir.Snapshot(5), SnapshotCodec.Encode(5, state).WrittenSpan.ToArray());

        var error = Assert.Throws<CorruptDataException>(() => DataStore.Open(dir.Dir).Dispose());
        Assert.Equal(dir.Snapshot(5), error.File);
        Assert.Contains("inconsistent", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SessionGivenTwiceIsCorruptData()
    {
        var session = new Session { Id = 3, Token = 1, Owner = "o", TtlMs = 1000, ExpiresAt = Cmd.T0 };
        var state = new EngineState(0, 3, 0, 0, [session, session], [], []);
        var bytes = SnapshotCodec.Encode(2, state).WrittenSpan.ToArray();

        Assert.Throws<CorruptDataException>(() => SnapshotLoader.Load("snapshot", bytes, null));
    }
}

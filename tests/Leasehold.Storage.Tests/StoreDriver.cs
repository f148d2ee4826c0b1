using Leasehold.Core;

namespace Leasehold.Storage.Tests;

/// <summary>
/// Plays the server's writer and flusher against a real <see cref="DataStore"/>: a command is applied to
/// <see cref="DataStore.Engine"/> and, if the engine's <see cref="LockEngine.Changes"/> moved, framed into the
/// pending <see cref="LogBuffer"/> (with the engine's pool choices) as record <see cref="DataStore.NextIndex"/>++; <see cref="Flush"/> writes
/// the batch and syncs it. <see cref="Snapshot"/> follows the flusher's order: sync, cut, write the snapshot.
/// </summary>
public sealed class StoreDriver : IDisposable
{
    private readonly EngineLimits? _limits;
    private readonly long _segmentBytes;
    private readonly bool _preallocate;
    private readonly bool _acceptDataLoss;
    private LogBuffer _pending = new();

    public StoreDriver(string dir, long segmentBytes = 64L << 20, EngineLimits? limits = null, bool preallocate = false, bool acceptDataLoss = false)
    {
        DirPath = dir;
        _segmentBytes = segmentBytes;
        _preallocate = preallocate;
        _acceptDataLoss = acceptDataLoss;
        _limits = limits;
        Store = DataStore.Open(dir, limits, segmentBytes, acceptDataLoss, preallocate);
    }

    public string DirPath { get; }

    public DataStore Store { get; private set; }

    public LockEngine Engine => Store.Engine;

    /// <summary>Write and sync after every command (a batch of one); otherwise only on <see cref="Flush"/>.</summary>
    public bool AutoFlush { get; set; } = true;

    /// <summary>Commands logged so far through this driver (across reopens).</summary>
    public long Logged { get; private set; }

    /// <summary>Applies <paramref name="command"/>, logs it if it changed state, and drains the outcomes.</summary>
    public object? Apply(Command command) => Apply(command, out _);

    public object? Apply(Command command, out List<WaiterOutcome> outcomes)
    {
        var engine = Store.Engine;
        var before = engine.Changes;
        _ = engine.TakeChoices();
        var result = ApplyTo(engine, command);
        var choices = engine.TakeChoices();
        outcomes = [.. engine.Outcomes];
        engine.DiscardOutcomes();
        if (engine.Changes != before)
        {
            // As the server's writer does: the record carries the pool choices the engine made.
            _pending.Append(Store.NextIndex++, choices is null ? command : command with { Choices = choices });
            Logged++;
        }
        if (AutoFlush)
        {
            Flush();
        }
        return result;
    }

    /// <summary>
    /// Applies any command as the server does: the resource commands through <see cref="LockEngine.Declare"/>
    /// and <see cref="LockEngine.Remove"/> (which <see cref="LockEngine.Apply"/> does not dispatch), the rest
    /// through <see cref="LockEngine.Apply"/>.
    /// </summary>
    public static object? ApplyTo(LockEngine engine, Command command) => command switch
    {
        DeclareResource c => engine.Declare(c),
        RemoveResource c => engine.Remove(c),
        _ => engine.Apply(command),
    };

    public AcquireResult Acquire(AcquireLease command) => (AcquireResult)Apply(command)!;

    public Session OpenSession(OpenSession command)
    {
        var result = (OperationResult<Session>)Apply(command)!;
        Assert.Equal(ErrorCode.None, result.Error);
        return result.Value!;
    }

    /// <summary>Writes the pending batch and makes it durable.</summary>
    public void Flush()
    {
        if (_pending.Records == 0)
        {
            return;
        }
        Store.Write(_pending);
        Store.Sync();
        _pending.Dispose();
        _pending = new LogBuffer();
    }

    /// <summary>Snapshots the current state as of the last logged record; returns that record's index.</summary>
    public long Snapshot()
    {
        Flush();
        var index = Store.NextIndex - 1;
        var bytes = SnapshotCodec.Encode(index, Store.Engine.Capture());
        Store.Sync();
        Store.CutAt(index);
        Store.WriteSnapshot(index, bytes.WrittenSpan);
        return index;
    }

    /// <summary>Flushes, closes the store, and opens the directory again (a clean restart).</summary>
    public DataStore Reopen()
    {
        Flush();
        Store.Dispose();
        Store = DataStore.Open(DirPath, _limits, _segmentBytes, _acceptDataLoss, _preallocate);
        return Store;
    }

    public void Dispose()
    {
        Flush();
        Store.Dispose();
        _pending.Dispose();
    }
}

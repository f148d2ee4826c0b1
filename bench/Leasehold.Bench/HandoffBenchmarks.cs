using BenchmarkDotNet.Attributes;
using Leasehold.Core;

namespace Leasehold.Bench;

/// <summary>
/// One holder and <see cref="Waiters"/> queued requests on the same path. One operation: the holder
/// releases, the engine grants the oldest waiter (reported in Outcomes), a new waiter joins the end of
/// the queue (so the queue length stays constant), and time advances by 1 ms with a Tick, as the
/// server's timer would (this keeps the deadline heap from growing without bound).
/// </summary>
[MemoryDiagnoser]
public class HandoffBenchmarks
{
    private static readonly UInt128 Token = new(5, 5);

    private LockEngine _engine = null!;
    private AcquireLease _enqueue = null!;
    private ReleaseLease _release = null!;
    private long _holderId;
    private long _now;

    [Params(1, 1_000, 100_000)]
    public int Waiters { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _engine = new LockEngine();
        _now = 1_000;
        var path = BenchPaths.Parse("/h/resource");

        // A waiter is granted after Waiters operations (Waiters ms); give it twice that before it expires.
        var waitMs = (2L * Waiters) + 10;
        _holderId = BenchPaths.Grant(_engine, new AcquireLease { Paths = [path], Token = Token, Now = _now }).Id;
        _enqueue = new AcquireLease { Paths = [path], Token = Token, WaitMs = waitMs, Now = _now };
        for (var i = 0; i < Waiters; i++)
        {
            if (_engine.Acquire(_enqueue).Waiter is null)
            {
                throw new InvalidOperationException("expected the request to queue");
            }
        }
        _release = new ReleaseLease { Token = Token, Now = _now };
    }

    [Benchmark]
    public long ReleaseGrantsNext()
    {
        var now = ++_now;
        CommandFields.SetNow(_release, now);
        CommandFields.SetLeaseId(_release, _holderId);
        _engine.Release(_release);
        var outcomes = _engine.Outcomes;
        var next = outcomes[0].Lease!;
        _engine.DiscardOutcomes();
        _holderId = next.Id;
        CommandFields.SetNow(_enqueue, now);
        _engine.Acquire(_enqueue);
        _engine.Advance(now);
        return next.Fence;
    }
}

/// <summary>
/// <see cref="Holders"/> shared leases on one path; one operation: the oldest releases and a new shared
/// request takes its place (readers coming and going), with a 1 ms tick. Releasing one of many shared
/// holders should cost the same whatever their number.
/// </summary>
[MemoryDiagnoser]
public class SharedHoldersHandoffBenchmarks
{
    private static readonly UInt128 Token = new(6, 6);

    private LockEngine _engine = null!;
    private AcquireLease _acquire = null!;
    private ReleaseLease _release = null!;
    private Queue<long> _holders = null!;
    private long _now;

    [Params(1, 1_000, 100_000)]
    public int Holders { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _engine = new LockEngine();
        _now = 1_000;
        _holders = new Queue<long>(Holders);
        _acquire = new AcquireLease { Paths = [BenchPaths.Parse("/h/shared")], Mode = LockMode.Shared, Token = Token, Now = _now };
        for (var i = 0; i < Holders; i++)
        {
            _holders.Enqueue(BenchPaths.Grant(_engine, _acquire).Id);
        }
        _release = new ReleaseLease { Token = Token, Now = _now };
    }

    [Benchmark]
    public long ReleaseOldestAcquireNew()
    {
        var now = ++_now;
        CommandFields.SetNow(_release, now);
        CommandFields.SetLeaseId(_release, _holders.Dequeue());
        _engine.Release(_release);
        CommandFields.SetNow(_acquire, now);
        var lease = _engine.Acquire(_acquire).Lease!;
        _holders.Enqueue(lease.Id);
        _engine.Advance(now);
        return lease.Fence;
    }
}

/// <summary>
/// Uncontended acquire + release while <see cref="UnrelatedWaiters"/> requests wait on an unrelated,
/// held subtree (/q/w{j} under an exclusive /q). Shows what the queue pass on every release costs
/// when the queue is long but nobody waits for the released path.
/// </summary>
[MemoryDiagnoser]
public class QueueScanBenchmarks
{
    private const int PathCount = 1024;
    private static readonly UInt128 Token = new(9, 9);

    private LockEngine _engine = null!;
    private AcquireLease[] _acquire = null!;
    private ReleaseLease _release = null!;

    [Params(0, 1_000)]
    public int UnrelatedWaiters { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _engine = new LockEngine();
        BenchPaths.Grant(_engine, new AcquireLease { Paths = [BenchPaths.Parse("/q")], Token = Token, Now = 1_000 });
        for (var j = 0; j < UnrelatedWaiters; j++)
        {
            var queued = _engine.Acquire(new AcquireLease
            {
                Paths = [BenchPaths.Parse($"/q/w{j}")],
                Token = Token,
                WaitMs = 24L * 3600 * 1000,
                Now = 1_000,
            });
            if (queued.Waiter is null)
            {
                throw new InvalidOperationException("expected the request to queue");
            }
        }
        _acquire = new AcquireLease[PathCount];
        for (var i = 0; i < PathCount; i++)
        {
            _acquire[i] = new AcquireLease { Paths = [BenchPaths.Parse($"/u/g{i / 32}/p{i}")], Token = Token, Now = 1_000 };
        }
        _release = new ReleaseLease { Token = Token, Now = 1_000 };
    }

    [Benchmark(OperationsPerInvoke = PathCount)]
    public long AcquireRelease()
    {
        long fences = 0;
        foreach (var command in _acquire)
        {
            var lease = _engine.Acquire(command).Lease!;
            CommandFields.SetLeaseId(_release, lease.Id);
            _engine.Release(_release);
            fences += lease.Fence;
        }
        return fences;
    }
}

using BenchmarkDotNet.Attributes;
using Leasehold.Core;

namespace Leasehold.Bench;

/// <summary>
/// Acquire + release of one lease on a path nobody else holds or waits for. The paths are parsed and the
/// commands built once; the release command is reused with its lease id set, so every allocation
/// reported is the engine's own. One operation = one acquire and one release.
/// </summary>
[MemoryDiagnoser]
public class UncontendedBenchmarks
{
    private const int PathCount = 1024;
    private static readonly UInt128 Token = new(0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210);

    private LockEngine _engine = null!;
    private AcquireLease[] _acquire = null!;
    private ReleaseLease _release = null!;
    private Lease[] _held = null!;

    [Params(LockMode.Exclusive, LockMode.Shared)]
    public LockMode Mode { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _engine = new LockEngine();
        _acquire = new AcquireLease[PathCount];
        for (var i = 0; i < PathCount; i++)
        {
            // depth 3: /u/{group}/{item}, 32 groups of 32
            _acquire[i] = new AcquireLease
            {
                Paths = [BenchPaths.Parse($"/u/g{i / 32}/p{i}")],
                Mode = Mode,
                Token = Token,
                Now = 1_000,
            };
        }
        _release = new ReleaseLease { Token = Token, Now = 1_000 };
        _held = new Lease[PathCount];
    }

    /// <summary>Each path acquired and released in turn: the tree holds at most one lease.</summary>
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

    /// <summary>All 1024 paths acquired, then all released: nodes are created and pruned in bulk.</summary>
    [Benchmark(OperationsPerInvoke = PathCount)]
    public long AcquireAllThenReleaseAll()
    {
        for (var i = 0; i < _acquire.Length; i++)
        {
            _held[i] = _engine.Acquire(_acquire[i]).Lease!;
        }
        long fences = 0;
        foreach (var lease in _held)
        {
            CommandFields.SetLeaseId(_release, lease.Id);
            _engine.Release(_release);
            fences += lease.Fence;
        }
        return fences;
    }
}

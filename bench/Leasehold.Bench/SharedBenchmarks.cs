using BenchmarkDotNet.Attributes;
using Leasehold.Core;

namespace Leasehold.Bench;

/// <summary>
/// Shared acquire + release on one path that <see cref="OtherHolders"/> other shared leases already hold.
/// Shared holders never conflict, so this is always a grant; it shows what a crowd of readers costs.
/// </summary>
[MemoryDiagnoser]
public class SharedBenchmarks
{
    private static readonly UInt128 Token = new(7, 11);

    private LockEngine _engine = null!;
    private AcquireLease _acquire = null!;
    private ReleaseLease _release = null!;

    [Params(0, 1_000)]
    public int OtherHolders { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _engine = new LockEngine();
        var path = BenchPaths.Parse("/s/shared/resource");
        _acquire = new AcquireLease { Paths = [path], Mode = LockMode.Shared, Token = Token, Now = 1_000 };
        for (var i = 0; i < OtherHolders; i++)
        {
            BenchPaths.Grant(_engine, new AcquireLease { Paths = [path], Mode = LockMode.Shared, Token = new UInt128(1, (ulong)i), Now = 1_000 });
        }
        _release = new ReleaseLease { Token = Token, Now = 1_000 };
    }

    [Benchmark]
    public long SharedAcquireRelease()
    {
        var lease = _engine.Acquire(_acquire).Lease!;
        CommandFields.SetLeaseId(_release, lease.Id);
        _engine.Release(_release);
        return lease.Fence;
    }
}

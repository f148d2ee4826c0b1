using BenchmarkDotNet.Attributes;
using Leasehold.Core;

namespace Leasehold.Bench;

/// <summary>
/// A request that fails at once (wait 0, result Locked) against a tree holding <see cref="HeldLeases"/>
/// exclusive leases on /c/{i / 1000}/{i}. The check reads counters along the requested path only, so
/// its cost should not change with the number of leases.
/// </summary>
[MemoryDiagnoser]
public class ConflictBenchmarks
{
    private LockEngine _engine = null!;
    private AcquireLease _samePath = null!;
    private AcquireLease _ancestor = null!;
    private AcquireLease _descendant = null!;
    private AcquireLease _root = null!;
    private AcquireLease _sharedOnExclusive = null!;

    [Params(1_000, 100_000)]
    public int HeldLeases { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _engine = new LockEngine();
        for (var i = 0; i < HeldLeases; i++)
        {
            BenchPaths.Grant(_engine, new AcquireLease
            {
                Paths = [BenchPaths.Parse($"/c/{i / 1000}/{i}")],
                Token = new UInt128(2, (ulong)i),
                Now = 1_000,
            });
        }
        var target = HeldLeases / 2;
        _samePath = Request($"/c/{target / 1000}/{target}", LockMode.Exclusive);
        _ancestor = Request($"/c/{target / 1000}", LockMode.Exclusive);
        _descendant = Request($"/c/{target / 1000}/{target}/child", LockMode.Exclusive);
        _root = Request("/", LockMode.Exclusive);
        _sharedOnExclusive = Request($"/c/{target / 1000}/{target}", LockMode.Shared);
        foreach (var command in new[] { _samePath, _ancestor, _descendant, _root, _sharedOnExclusive })
        {
            var result = _engine.Acquire(command);
            if (result.Error != ErrorCode.Locked)
            {
                throw new InvalidOperationException($"{command.Paths[0]} should be Locked, got {result.Error}");
            }
        }
    }

    private static AcquireLease Request(string path, LockMode mode)
        => new() { Paths = [BenchPaths.Parse(path)], Mode = mode, Token = new UInt128(3, 3), WaitMs = 0, Now = 1_000 };

    [Benchmark(Baseline = true)]
    public ErrorCode SamePath() => _engine.Acquire(_samePath).Error;

    [Benchmark]
    public ErrorCode Ancestor() => _engine.Acquire(_ancestor).Error;

    [Benchmark]
    public ErrorCode Descendant() => _engine.Acquire(_descendant).Error;

    [Benchmark]
    public ErrorCode Root() => _engine.Acquire(_root).Error;

    [Benchmark]
    public ErrorCode SharedOnExclusive() => _engine.Acquire(_sharedOnExclusive).Error;
}

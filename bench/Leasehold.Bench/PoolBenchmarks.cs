using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Leasehold.Core;
using Leasehold.Core.Pools;
using Leasehold.Core.Query;

namespace Leasehold.Bench;

/// <summary>
/// Allocation from a pool of <see cref="Resources"/> declared resources /pool/r{i:D6} with attributes
/// {"os": one of 10 values, "rack": 0..99, "online": bool}, by the selective requirement
/// {"os": "android", "online": true}, which 5 % of them match (50, 500, 5,000). One operation = one pool
/// acquire (one resource) + its release; nothing else is held, so the acquire always succeeds.
/// <see cref="AcquireRelease"/> is the steady state: the engine's candidate list for (pool, requirement)
/// is cached. <see cref="RedeclareThenAcquireRelease"/> first re-declares one (non-matching) resource with
/// its own attributes, which invalidates the cached lists, so the acquire rebuilds the candidate list by
/// matching every declared resource; <see cref="Redeclare"/> alone is the declaration's own share.
/// <see cref="RedeclareElsewhereThenAcquireRelease"/> re-declares a resource of another pool (/other)
/// instead, which should leave this pool's list cached.
/// </summary>
[MemoryDiagnoser]
public class PoolBenchmarks
{
    public const string Require = """{"os": "android", "online": true}""";

    private static readonly string[] Systems = ["android", "ios", "linux", "windows", "macos", "freebsd", "chromeos", "tizen", "fuchsia", "harmony"];
    private static readonly UInt128 Token = new(0xB001, 0xB001);

    private LockEngine _engine = null!;
    private AcquireLease _acquire = null!;
    private ReleaseLease _release = null!;
    private DeclareResource _redeclare = null!;
    private DeclareResource _redeclareElsewhere = null!;

    [Params(1_000, 10_000, 100_000)]
    public int Resources { get; set; }

    public static string Attributes(int i)
        => string.Create(CultureInfo.InvariantCulture, $$"""{"os": "{{Systems[i % 10]}}", "rack": {{i % 100}}, "online": {{((i / 10) % 2 == 0 ? "true" : "false")}}}""");

    public static LockEngine DeclarePool(int resources, out ResourcePath pool)
    {
        var engine = new LockEngine();
        pool = BenchPaths.Parse("/pool");
        for (var i = 0; i < resources; i++)
        {
            var declared = engine.Declare(new DeclareResource
            {
                Now = 1_000,
                Path = BenchPaths.Parse(string.Create(CultureInfo.InvariantCulture, $"/pool/r{i:D6}")),
                Attributes = Attributes(i),
            });
            if (declared.Error != ErrorCode.None)
            {
                throw new InvalidOperationException($"declare {i}: {declared.Error} {declared.Detail}");
            }
        }
        return engine;
    }

    [GlobalSetup]
    public void Setup()
    {
        _engine = DeclarePool(Resources, out var pool);
        _acquire = new AcquireLease { Now = 1_000, Paths = [], Groups = [new PoolGroup(pool, Require, 1)], Token = Token };
        _release = new ReleaseLease { Now = 1_000, Token = Token };
        // Resource 1 is "ios": not a candidate, so re-declaring it changes nothing but the declarations version.
        _redeclare = new DeclareResource { Now = 1_000, Path = BenchPaths.Parse("/pool/r000001"), Attributes = Attributes(1) };
        _redeclareElsewhere = new DeclareResource { Now = 1_000, Path = BenchPaths.Parse("/other/r000000"), Attributes = Attributes(0) };
        _engine.Declare(_redeclareElsewhere);

        var result = _engine.Acquire(_acquire);
        var lease = result.Lease ?? throw new InvalidOperationException($"pool acquire: {result.Error} {result.Detail}");
        var attributes = _engine.GetDeclared(lease.Paths[0])!.AttributesJson;
        if (!attributes.Contains("\"android\"", StringComparison.Ordinal) || !attributes.Contains("true", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"granted {lease.Paths[0]} with {attributes}");
        }
        CommandFields.SetLeaseId(_release, lease.Id);
        _engine.Release(_release);
    }

    /// <summary>Steady state: the candidate list is cached.</summary>
    [Benchmark(Baseline = true)]
    public long AcquireRelease() => AcquireAndRelease();

    /// <summary>A declaration change alone (re-declaring a resource nobody asked for).</summary>
    [Benchmark]
    public long Redeclare() => _engine.Declare(_redeclare).Error == ErrorCode.None ? 1 : 0;

    /// <summary>The first acquire after a declaration change: rebuilds the candidate list.</summary>
    [Benchmark]
    public long RedeclareThenAcquireRelease()
    {
        _engine.Declare(_redeclare);
        return AcquireAndRelease();
    }

    /// <summary>An acquire after a declaration change in another pool: the list stays cached.</summary>
    [Benchmark]
    public long RedeclareElsewhereThenAcquireRelease()
    {
        _engine.Declare(_redeclareElsewhere);
        return AcquireAndRelease();
    }

    private long AcquireAndRelease()
    {
        var lease = _engine.Acquire(_acquire).Lease!;
        CommandFields.SetLeaseId(_release, lease.Id);
        _engine.Release(_release);
        return lease.Fence;
    }
}

/// <summary>
/// The pieces of a pool acquire that do not depend on the pool's size: compiling the requirement text
/// (done on every pool acquire) and matching it against one resource's attributes (done for every
/// declared resource when a candidate list is rebuilt).
/// </summary>
[MemoryDiagnoser]
public class RequirementBenchmarks
{
    private PoolGroup _group = null!;
    private Requirement _requirement = null!;
    private JsonElement _matching;
    private JsonElement _other;

    [GlobalSetup]
    public void Setup()
    {
        _group = new PoolGroup(BenchPaths.Parse("/pool"), PoolBenchmarks.Require, 1);
        if (!GroupClaim.TryCreate(_group, out var claim, out var error))
        {
            throw new InvalidOperationException(error);
        }
        _requirement = claim.Requirement;
        using (var matching = JsonDocument.Parse(PoolBenchmarks.Attributes(0)))
        using (var other = JsonDocument.Parse(PoolBenchmarks.Attributes(1)))
        {
            _matching = matching.RootElement.Clone();
            _other = other.RootElement.Clone();
        }
        if (!_requirement.Matches(_matching) || _requirement.Matches(_other))
        {
            throw new InvalidOperationException("the requirement does not select as expected");
        }
    }

    /// <summary>Parse and compile the requirement text, as every pool acquire does.</summary>
    [Benchmark]
    public bool Compile() => GroupClaim.TryCreate(_group, out _, out _);

    /// <summary>Match one matching and one non-matching resource (per-resource cost of a rebuild, ×2).</summary>
    [Benchmark]
    public int MatchTwo() => (_requirement.Matches(_matching) ? 1 : 0) + (_requirement.Matches(_other) ? 1 : 0);
}

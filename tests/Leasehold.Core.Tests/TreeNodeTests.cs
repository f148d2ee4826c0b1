namespace Leasehold.Core.Tests;

/// <summary>The engine counts the nodes of its path tree, which the host's memory quota reads.</summary>
public class TreeNodeTests
{
    private static ResourcePath P(string text) => ResourcePath.TryParse(text, out var path, out var error) ? path : throw new ArgumentException(error);

    [Fact]
    public void Nodes_count_distinct_prefixes_and_return_to_zero_when_released()
    {
        var engine = new LockEngine(new EngineLimits());
        var a = engine.Acquire(new AcquireLease { Now = 1, Paths = [P("/lab/rack-1/phone-1")], Token = 1 }).Lease!;
        Assert.Equal(3, engine.TreeNodes);
        var b = engine.Acquire(new AcquireLease { Now = 1, Paths = [P("/lab/rack-1/phone-2"), P("/ci")], Token = 2 }).Lease!;
        Assert.Equal(5, engine.TreeNodes);
        engine.Release(new ReleaseLease { Now = 2, LeaseId = a.Id, Token = 1 });
        Assert.Equal(4, engine.TreeNodes);
        engine.Release(new ReleaseLease { Now = 2, LeaseId = b.Id, Token = 2 });
        Assert.Equal(0, engine.TreeNodes);
    }
}

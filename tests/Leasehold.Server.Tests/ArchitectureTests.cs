using System.Reflection;

namespace Leasehold.Server.Tests;

/// <summary>References point one way: Core and Protocol depend on nothing of ours, Storage on Core, the server on all three.</summary>
public class ArchitectureTests
{
    private static string[] OurReferences(Assembly assembly)
        => [.. assembly.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("Leasehold", StringComparison.Ordinal)).Order()];

    [Fact]
    public void CoreDependsOnNothingOfOursAndNoPackages()
    {
        var core = typeof(Core.LockEngine).Assembly;
        Assert.Empty(OurReferences(core));
        Assert.All(core.GetReferencedAssemblies(), a =>
            Assert.True(a.Name is "System.Runtime" or "System.Collections" or "System.Linq" or "System.Runtime.Intrinsics" or "System.Memory", $"Core references {a.Name}"));
    }

    [Fact]
    public void ProtocolDependsOnNothingOfOurs() => Assert.Empty(OurReferences(typeof(Protocol.LeaseDto).Assembly));

    [Fact]
    public void StorageDependsOnCoreOnly() => Assert.Equal(["Leasehold.Core"], OurReferences(typeof(Storage.DataStore).Assembly));

    [Fact]
    public void ServerDependsOnCoreProtocolAndStorage()
        => Assert.Equal(["Leasehold.Core", "Leasehold.Protocol", "Leasehold.Storage"], OurReferences(typeof(LeaseholdApp).Assembly));
}

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
        // Only the framework's own assemblies, and none that reach the network, the console or processes.
        Assert.All(core.GetReferencedAssemblies(), a =>
            Assert.True(a.Name!.StartsWith("System.", StringComparison.Ordinal)
                && !a.Name.StartsWith("System.Net", StringComparison.Ordinal)
                && a.Name is not ("System.Console" or "System.Diagnostics.Process" or "System.IO.FileSystem.Watcher"), $"Core references {a.Name}"));
    }

    [Fact]
    public void ProtocolDependsOnNothingOfOurs() => Assert.Empty(OurReferences(typeof(Protocol.LeaseDto).Assembly));

    [Fact]
    public void StorageDependsOnCoreOnly() => Assert.Equal(["Leasehold.Core"], OurReferences(typeof(Storage.DataStore).Assembly));

    [Fact]
    public void ServerDependsOnCoreProtocolAndStorage()
        => Assert.Equal(["Leasehold.Core", "Leasehold.Protocol", "Leasehold.Storage"], OurReferences(typeof(LeaseholdApp).Assembly));
}

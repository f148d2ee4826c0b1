namespace Leasehold.Client.Tests;

/// <summary>
/// Tests whose leases live one or two seconds and that bound how late LostToken may fire: they run on
/// their own, after the others, so that a burst of servers starting in parallel cannot starve the
/// keep-alive timers they measure.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "timing";
}

using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Client.Tests;

/// <summary>services.AddLeaseholdClient(): a typed client whose HttpClient comes from the factory.</summary>
public sealed class DependencyInjectionTests : ClientTestBase
{
    [Fact]
    public async Task A_client_resolved_from_the_container_acquires()
    {
        var services = new ServiceCollection();
        services.AddLeaseholdClient(o =>
        {
            o.Server = Server.BaseAddress;
            o.Owner = "from-di";
        });
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<LeaseholdClient>();
        Assert.Equal(Server.BaseAddress, client.Options.Server);
        await using (var lease = await Bounded(client.AcquireAsync(AcquireOptions.ForPath("/di/job") with { Ttl = TimeSpan.FromSeconds(30) })))
        {
            Assert.Equal("from-di", lease.Lease.Owner);
            var holder = Assert.Single((await Bounded(client.GetResourceAsync("/di/job"))).Holders);
            Assert.Equal(lease.Id, holder.Id);

            // A second resolution is another client of the same server, and sees the same lease.
            var again = provider.GetRequiredService<LeaseholdClient>();
            Assert.Null(await Bounded(again.TryAcquireAsync(AcquireOptions.ForPath("/di/job"))));
        }
        Assert.Empty((await Bounded(client.GetResourceAsync("/di/job"))).Holders);
    }

    [Fact]
    public async Task Options_bound_with_Configure_are_used_when_no_delegate_is_given()
    {
        var services = new ServiceCollection();
        services.AddLeaseholdClient();
        services.Configure<LeaseholdClientOptions>(o => o.Server = Server.BaseAddress);
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<LeaseholdClient>();
        await using var lease = await Bounded(client.AcquireAsync(AcquireOptions.ForPath("/di/configured")));
        Assert.NotNull(lease.SessionId);
        Assert.NotNull(await Bounded(client.GetLeaseAsync(lease.Id)));
    }

    [Fact]
    public async Task A_TimeProvider_registered_in_the_container_is_the_clients_clock_unless_the_options_name_another()
    {
        var clock = new TestClock();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.AddLeaseholdClient(o => o.Server = Server.BaseAddress);
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<LeaseholdClient>();
        Assert.Same(clock, client.Options.TimeProvider);
        // The handle's keep-alive waits on it: a third of the ttl, armed on the registered clock.
        await using var lease = await Bounded(client.AcquireAsync(AcquireOptions.ForPath("/di/clock") with { Ttl = TimeSpan.FromSeconds(30) }));
        await clock.WaitArmedAsync(d => d >= TimeSpan.FromSeconds(10) && d < TimeSpan.FromSeconds(11), 1, "the wait before the first renewal");

        var own = new TestClock();
        var explicitServices = new ServiceCollection();
        explicitServices.AddSingleton<TimeProvider>(clock);
        explicitServices.AddLeaseholdClient(o =>
        {
            o.Server = Server.BaseAddress;
            o.TimeProvider = own;
        });
        await using var explicitProvider = explicitServices.BuildServiceProvider();
        Assert.Same(own, explicitProvider.GetRequiredService<LeaseholdClient>().Options.TimeProvider);
    }
}

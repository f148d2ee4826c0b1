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
}

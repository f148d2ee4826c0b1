using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Client.Tests;

/// <summary>
/// A server reached under a path (a reverse proxy forwarding <c>/leasehold/</c>): the client's requests
/// go under that path whether <see cref="LeaseholdClientOptions.Server"/> ends with '/' or not.
/// </summary>
public sealed class ServerAddressTests : ClientTestBase
{
    protected override string? PathPrefix => "/leasehold";

    [Theory]
    [InlineData(false, 30.0)]
    [InlineData(false, null)]
    [InlineData(true, 30.0)]
    [InlineData(true, null)]
    public async Task A_server_under_a_path_is_reached_with_or_without_the_final_slash(bool finalSlash, double? ttl)
    {
        var address = Server.BaseAddress.AbsoluteUri.TrimEnd('/') + (finalSlash ? "/" : "");
        Assert.EndsWith(finalSlash ? "/leasehold/" : "/leasehold", address, StringComparison.Ordinal);
        var client = Server.CreateClient(o => o.Server = new Uri(address));

        long id;
        await using (var lease = await Bounded(client.AcquireAsync(PathOptions("/behind/proxy", ttl))))
        {
            id = lease.Id;
            Assert.NotNull(await Bounded(client.GetLeaseAsync(id)));
            Assert.Equal(id, Assert.Single((await Bounded(client.GetResourceAsync("/behind/proxy"))).Holders).Id);
            Assert.Single((await Bounded(client.ListAsync("/behind"))).Resources);
            await Bounded(lease.RenewAsync());
        }

        Assert.Null(await Bounded(client.GetLeaseAsync(id)));
        var stats = await Server.StatsAsync();
        Assert.Equal(0, stats.Leases);
        Assert.Equal(0, stats.Sessions);
    }

    [Fact]
    public async Task A_client_from_the_container_is_reached_under_the_path_too()
    {
        var services = new ServiceCollection();
        services.AddLeaseholdClient(o => o.Server = Server.BaseAddress);
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<LeaseholdClient>();

        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/behind/di", null)));

        Assert.Equal(lease.SessionId, (await Bounded(client.GetLeaseAsync(lease.Id)))?.Session);
    }
}

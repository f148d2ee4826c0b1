using System.Net;

namespace Leasehold.Server.Tests.Compat.IdServer;

/// <summary>idserver's swapped <c>inet_pton</c> arguments made IPv6 impossible; here it works, and <c>::</c> takes IPv4 too.</summary>
public sealed class Ipv6Tests : IdServerTestBase
{
    protected override bool StartsAtOnce => false;

    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task IPv6LoopbackWorks(string transport)
    {
        await StartAsync(Args(more: "--Leasehold:IdServer:Host=::1"));
        Assert.Equal(IPAddress.IPv6Loopback, Endpoints.Udp!.Address);
        Assert.Equal(IPAddress.IPv6Loopback, Endpoints.Tcp!.Address);
        var results = await RunOnAsync(transport, "::1",
            Op("raw", """{"action": "get", "owner": "v6", "expire": 30}"""),
            Op("get", "v6", 30), Op("put", "v6"));
        AssertReply(transport, """{"error": 0, "value": "name-0"}""", results[0]);
        Assert.Equal("name-0", Value(results[1]));
        Assert.Equal(0, await LeaseCountAsync());
    }

    [Theory]
    [InlineData("udp", "::")]
    [InlineData("tcp", "::")]
    [InlineData("udp", "*")]
    [InlineData("tcp", "*")]
    public async Task EveryAddressMeansIPv4AndIPv6(string transport, string host)
    {
        // Every address with no authentication: protected mode would refuse without --open.
        await StartAsync([.. Args(more: $"--Leasehold:IdServer:Host={host}"), "--open"]);
        Assert.Equal(IPAddress.IPv6Any, Endpoints.Udp!.Address);
        var overV6 = await RunOnAsync(transport, "::1", Op("get", "v6", 30));
        var overV4 = await RunOnAsync(transport, "127.0.0.1", Op("get", "v4", 30), Op("get", "v6", 30));
        Assert.Equal("name-0", Value(overV6[0]));
        Assert.Equal("name-1", Value(overV4[0]));
        Assert.Equal("name-0", Value(overV4[1]));
    }
}

namespace Leasehold.Server.Tests.Compat.IdServer;

/// <summary>idserver's <c>if not ret</c> bug made a pool holding <c>0</c> answer "id exhausted"; here <c>"0"</c> is an id like any other.</summary>
public sealed class FalsyIdTests : IdServerTestBase
{
    protected override bool StartsAtOnce => false;

    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task ZeroIsHandedOutAndReturned(string transport)
    {
        await StartAsync(Args("0,1"));
        var results = await RunAsync(transport,
            Op("raw", """{"action": "get", "owner": "a", "expire": 30}"""),
            Op("get", "b", 30), Op("get", "c", 30),
            Op("put", "a"), Op("get", "c", 30), Op("get", "a", 30));
        AssertReply(transport, """{"error": 0, "value": "0"}""", results[0]);
        Assert.Equal("1", Value(results[1]));
        Assert.Equal("id exhausted", Error(results[2]));
        Assert.Equal("0", Value(results[4]));
        Assert.Equal("id exhausted", Error(results[5]));
        Assert.Equal("c", (await HoldersAsync("0")).Single().GetProperty("owner").GetString());
    }
}

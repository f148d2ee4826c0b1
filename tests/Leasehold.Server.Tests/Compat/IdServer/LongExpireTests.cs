namespace Leasehold.Server.Tests.Compat.IdServer;

/// <summary>
/// idserver's longest <c>expire</c> (366 days) is a deadline further off than a timer can be set for: it
/// used to stop the server's writer, so that every later request, on every front-end, went unanswered.
/// </summary>
public sealed class LongExpireTests : IdServerTestBase
{
    [Fact]
    public async Task An_id_for_366_days_leaves_every_front_end_serving()
    {
        Assert.Equal("name-0", Value((await RunAsync("udp", Op("get", "long", 31622400)))[0]));

        var results = await RunAsync("tcp", Op("get", "short", 10), Op("put", "short"), Op("get", "long", 31622400));
        Assert.Equal("name-1", Value(results[0]));
        Assert.True(results[1].GetProperty("ok").GetBoolean());
        Assert.Equal("name-0", Value(results[2]));
        await new Api(Server.Client).AssertServesAsync("/other");
        Assert.Equal(31622400, (await HoldersAsync("name-0")).Single().GetProperty("ttl").GetDouble());
    }
}

namespace Leasehold.Server.Tests.Compat.IdServer;

/// <summary>The same owner renews its id; an id's lease runs out by time; <c>expire &lt;= 0</c> frees it at once.</summary>
public sealed class RenewAndExpiryTests : IdServerTestBase
{
    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task TheSameOwnerRenewsTheSameIdAndMovesItsExpiry(string transport)
    {
        var first = await RunAsync(transport, Op("get", "worker", 30));
        var id = Value(first[0]);
        var held = (await HoldersAsync(id)).Single();

        var again = await RunAsync(transport, Op("get", "worker", 300));
        Assert.Equal(id, Value(again[0]));
        var renewed = (await HoldersAsync(id)).Single();
        Assert.Equal(held.GetProperty("id").GetInt64(), renewed.GetProperty("id").GetInt64());
        Assert.Equal(held.GetProperty("fence").GetInt64(), renewed.GetProperty("fence").GetInt64());
        var moved = renewed.GetProperty("expiresAt").GetDateTimeOffset() - held.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.True(moved > TimeSpan.FromSeconds(260), $"the expiry moved by {moved}, not by about 270 s");
        Assert.Equal(1, await LeaseCountAsync());

        // As in idserver, renewing may also shorten the lease.
        Assert.Equal(id, Value((await RunAsync(transport, Op("get", "worker", 5)))[0]));
        var shortened = (await HoldersAsync(id)).Single();
        Assert.True(shortened.GetProperty("expiresAt").GetDateTimeOffset() < renewed.GetProperty("expiresAt").GetDateTimeOffset());
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task AnIdExpiresByTimeAndGoesToAnotherOwner(string transport)
    {
        var results = await RunAsync(transport,
            Op("get", "short", 0.5), Op("get", "b", 60), Op("get", "c", 60),
            Op("until", "d", 60, 10));
        var id = Value(results[0]);
        Assert.Equal(id, Value(results[3]));
        var waited = Time(results[3]) - Time(results[0]);
        Assert.True(waited >= 0.4, $"another owner got the id {waited:0.000} s after a 0.5 s lease was granted");
        Assert.Equal("d", (await HoldersAsync(id)).Single().GetProperty("owner").GetString());

        // The first owner lost it: the pool is full now.
        Assert.Equal("id exhausted", Error((await RunAsync(transport, Op("get", "short", 60)))[0]));
    }

    [Theory]
    [InlineData("udp", 0)]
    [InlineData("tcp", 0)]
    [InlineData("udp", -5)]
    [InlineData("tcp", -0.5)]
    public async Task ExpireZeroOrLessAnswersTheIdAndFreesItAtOnce(string transport, double expire)
    {
        var results = await RunAsync(transport,
            Op("get", "a", expire),
            Op("get", "renewing", 60), Op("get", "renewing", expire));
        Assert.Equal("name-0", Value(results[0]));
        var renewed = Value(results[1]);
        Assert.Equal(renewed, Value(results[2]));
        Assert.Equal(0, await LeaseCountAsync());

        // Both ids are free: three other owners get all three ids.
        var others = await RunAsync(transport, Op("get", "x", 60), Op("get", "y", 60), Op("get", "z", 60));
        Assert.Equal(["name-0", "name-1", "name-2"], others.Select(Value).Order(StringComparer.Ordinal));
    }
}

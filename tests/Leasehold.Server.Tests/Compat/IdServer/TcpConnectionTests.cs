namespace Leasehold.Server.Tests.Compat.IdServer;

/// <summary>A TCP connection carries requests one after another; closing it releases nothing; many may be open at once.</summary>
public sealed class TcpConnectionTests : IdServerTestBase
{
    [Fact]
    public async Task SeveralSequentialRequestsOnOneConnection()
    {
        var results = await RunAsync("tcp",
            Op("get", "a", 30), Op("get", "b", 30), Op("raw", "oops"), Op("get", "a", 30),
            Op("put", "a"), Op("get", "c", 30), Op("raw", """{"action": "put", "owner": "b"}"""), Op("get", "d", 30));
        Assert.Equal("name-0", Value(results[0]));
        Assert.Equal("name-1", Value(results[1]));
        AssertReply("tcp", """{"error": 1, "message": "No JSON object could be decoded"}""", results[2]);
        Assert.Equal("name-0", Value(results[3]));
        Assert.Equal("name-2", Value(results[5]));
        AssertReply("tcp", """{"error": 0}""", results[6]);
        // Least recently released first: name-0 (released before name-1).
        Assert.Equal("name-0", Value(results[7]));
    }

    [Fact]
    public async Task LinesSentTogetherAreAnsweredInOrder()
    {
        string[] lines =
        [
            """{"action": "get", "owner": "a", "expire": 30}""",
            """{"action": "put", "owner": "nobody"}""",
            "{",
            """{"action": "get", "owner": "b", "expire": 30}""",
            """{"action": "get", "owner": "a", "expire": 30}""",
        ];
        var results = await RunAsync("tcp", Op("pipelined", new System.Text.Json.Nodes.JsonArray([.. lines.Select(l => (System.Text.Json.Nodes.JsonNode?)l)])));
        Assert.Equal(
            [
                "{\"error\": 0, \"value\": \"name-0\"}\n",
                "{\"error\": 0}\n",
                "{\"error\": 1, \"message\": \"No JSON object could be decoded\"}\n",
                "{\"error\": 0, \"value\": \"name-1\"}\n",
                "{\"error\": 0, \"value\": \"name-0\"}\n",
            ],
            results[0].GetProperty("replies").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task ClosingTheConnectionReleasesNothing()
    {
        var results = await RunAsync("tcp", Op("get", "a", 30), Op("reconnect"), Op("get", "b", 30));
        Assert.Equal("name-0", Value(results[0]));
        Assert.Equal("name-1", Value(results[2]));
        // The client process has exited, so both connections are closed.
        Assert.Equal("a", (await HoldersAsync("name-0")).Single().GetProperty("owner").GetString());
        Assert.Equal("b", (await HoldersAsync("name-1")).Single().GetProperty("owner").GetString());
        Assert.Equal("name-0", Value((await RunAsync("tcp", Op("get", "a", 30)))[0]));
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task ManyClientsAtOnce(string transport)
    {
        var results = (await RunAsync(transport, Op("many", 100, 30)))[0].GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(100, results.Length);
        var granted = results.Where(r => r.TryGetProperty("value", out _)).Select(Value).ToArray();
        Assert.Equal(["name-0", "name-1", "name-2"], granted.Order(StringComparer.Ordinal));
        Assert.All(results.Where(r => !r.TryGetProperty("value", out _)), r => Assert.Equal("id exhausted", Error(r)));
        // Every client put its id back before closing.
        Assert.Equal(0, await LeaseCountAsync());
    }
}

namespace Leasehold.Server.Tests.Compat.IdServer;

/// <summary>Oversized, garbage and endless input is answered with an error or closed; the listeners serve on.</summary>
public sealed class RobustnessTests : IdServerTestBase
{
    private const string TooLarge = """{"error": 1, "message": "request larger than 8192 bytes"}""";
    private const string NotJson = """{"error": 1, "message": "No JSON object could be decoded"}""";

    [Fact]
    public async Task ADatagramOver8192BytesIsRefusedAndOneOfExactly8192Served()
    {
        var results = await RunAsync("udp", Op("big", 8193), Op("big", 60000), Op("big", 8192), Op("get", "after", 30));
        AssertReply("udp", TooLarge, results[0]);
        AssertReply("udp", TooLarge, results[1]);
        AssertReply("udp", """{"error": 0}""", results[2]);
        Assert.Equal("name-0", Value(results[3]));
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task GarbageBytesAreNoJsonAndTheListenerGoesOn(string transport)
    {
        string[] garbage =
        [
            "fffe00c3",
            "00000000000000000000",
            "7b22616374696f6e223a2022ff227d", // {"action": "\xff"}: not UTF-8
            "efbbbf5b5d5d5d",
            "8081828384858687",
        ];
        var results = await RunAsync(transport, [.. garbage.Select(g => Op("hex", g)), Op("get", "after", 30)]);
        foreach (var result in results[..^1])
        {
            AssertReply(transport, NotJson, result);
        }
        Assert.Equal("name-0", Value(results[^1]));
    }

    [Fact]
    public async Task ATcpLineOverTheBoundClosesTheConnectionOnly()
    {
        var results = await RunAsync("tcp", Op("get", "before", 30), Op("longline", 70_000));
        Assert.Equal("name-0", Value(results[0]));
        Assert.True(results[1].GetProperty("closed").GetBoolean(), $"the connection stayed open: {results[1]}");
        var reply = results[1].GetProperty("reply").GetString();
        Assert.True(reply is "" or """{"error": 1, "message": "request line longer than 65536 bytes"}""", $"unexpected reply {reply}");

        // Nothing was released, and new connections are served.
        var after = await RunAsync("tcp", Op("get", "before", 30), Op("get", "after", 30));
        Assert.Equal("name-0", Value(after[0]));
        Assert.Equal("name-1", Value(after[1]));
    }
}
